package telegram

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	tgbot "github.com/go-telegram/bot"
)

// Metrics receives counts of what the adapter does, for monitoring. Its
// methods are called from many goroutines and must be quick; main
// implements them with Prometheus counters.
type Metrics interface {
	// UpdateReceived counts an update taken in (polled or posted to the
	// webhook), before it is handled.
	UpdateReceived()
	// MessageSent counts a message (or document) Telegram accepted.
	MessageSent()
	// SendFailed counts one failed try of a message, by kind: one of the
	// SendError constants. A retried message counts each failed try.
	SendFailed(kind string)
}

// The kinds of failed sends that Metrics.SendFailed counts.
const (
	SendError429     = "429"     // rate limited
	SendError403     = "403"     // blocked by the person, or no rights in the chat
	SendError400     = "400"     // refused: a bad request, or the chat is gone
	SendError5xx     = "5xx"     // a server error, or an answer that is not the Bot API's (a proxy's page)
	SendErrorNetwork = "network" // no answer: refused or dropped connection, timeout
	SendErrorOther   = "other"   // 401, 404, 409
)

type noMetrics struct{}

func (noMetrics) UpdateReceived()   {}
func (noMetrics) MessageSent()      {}
func (noMetrics) SendFailed(string) {}

// sendErrorKind classifies an error from the library for Metrics.
func sendErrorKind(err error) string {
	var tooMany *tgbot.TooManyRequestsError
	var migrate *tgbot.MigrateError
	var uerr *url.Error
	switch {
	case errors.As(err, &tooMany):
		return SendError429
	case errors.Is(err, tgbot.ErrorForbidden):
		return SendError403
	case errors.Is(err, tgbot.ErrorBadRequest), errors.As(err, &migrate):
		return SendError400
	case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound), errors.Is(err, tgbot.ErrorConflict):
		return SendErrorOther
	case errors.As(err, &uerr):
		return SendErrorNetwork
	}
	return SendError5xx
}

// QueueDepth returns how many updates have been received and wait to be
// handled, over all chats.
func (a *Adapter) QueueDepth() int { return int(a.queues.depth.Load()) }

// heldOpen is how long a long poll must have been waiting for updates to
// show that the Bot API is answering again: a failing server answers at
// once.
const heldOpen = 2 * time.Second

// Health returns nil while the adapter is connected: Run is receiving
// updates and, in polling mode, the last getUpdates call succeeded, or
// none has answered yet, or the one in flight has been held open (long
// polling) for a while. Otherwise it says what is wrong, without secrets.
func (a *Adapter) Health() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.fatal != nil:
		return a.fatal
	case a.stopping:
		return errors.New("telegram: shutting down")
	case !a.ran:
		return errors.New("telegram: not receiving yet")
	case !a.pollFail.IsZero() && (a.polling.IsZero() || time.Since(a.polling) < heldOpen):
		return fmt.Errorf("telegram: getUpdates failing since %s", a.pollFail.UTC().Format(time.RFC3339))
	}
	return nil
}

// pollBegins and pollEnds bracket a getUpdates call, for Health.
func (a *Adapter) pollBegins() {
	a.mu.Lock()
	a.polling = time.Now()
	a.mu.Unlock()
}

func (a *Adapter) pollEnds() {
	a.mu.Lock()
	a.polling = time.Time{}
	a.mu.Unlock()
}

// pollFailed notes a failed getUpdates call, for Health.
func (a *Adapter) pollFailed() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pollFail.IsZero() {
		a.pollFail = time.Now()
	}
}
