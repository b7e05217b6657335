package discord

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Metrics receives counts of what the adapter does, for monitoring. Its
// methods are called from many goroutines and must be quick; main
// implements them with Prometheus counters.
type Metrics interface {
	// UpdateReceived counts an event taken in: an interaction (slash
	// command, button press, autocomplete) or a direct message from a
	// person, before it is handled.
	UpdateReceived()
	// MessageSent counts a message Discord accepted: a reply to an
	// interaction (response, edit of a deferred one, follow-up) or a
	// direct message (replies and daily prompts).
	MessageSent()
	// SendFailed counts one failed try of such a message, by kind: one of
	// the SendError constants. A retried message counts each failed try.
	SendFailed(kind string)
}

// The kinds of failed sends that Metrics.SendFailed counts; the same as
// the Telegram adapter's, so that main labels both alike.
const (
	SendError429     = "429"     // rate limited
	SendError403     = "403"     // the person cannot be messaged (50007), or missing access
	SendError400     = "400"     // refused as malformed (50035 and the like)
	SendError5xx     = "5xx"     // a server error (after discordgo's own retries of a 502)
	SendErrorNetwork = "network" // no answer: refused or dropped connection, timeout
	SendErrorOther   = "other"   // 401, 404 (an unknown channel or interaction), an unreadable answer
)

type noMetrics struct{}

func (noMetrics) UpdateReceived()   {}
func (noMetrics) MessageSent()      {}
func (noMetrics) SendFailed(string) {}

// sendErrorKind classifies an error from discordgo for Metrics.
func sendErrorKind(err error) string {
	var rl *discordgo.RateLimitError
	var uerr *url.Error
	if errors.As(err, &rl) {
		return SendError429
	}
	if re := restError(err); re != nil {
		switch code := re.Response.StatusCode; {
		case code == http.StatusTooManyRequests:
			return SendError429
		case code == http.StatusForbidden:
			return SendError403
		case code == http.StatusBadRequest:
			return SendError400
		case code >= 500:
			return SendError5xx
		}
		return SendErrorOther
	}
	if errors.As(err, &uerr) {
		return SendErrorNetwork
	}
	return SendErrorOther
}

// observe notes the outcome of one REST try: in Metrics when it delivered
// a message, and as fatal when Discord refused the bot token (botAuth: the
// request was authenticated with it, not with an interaction's token,
// whose 401 only means that interaction expired).
func (a *Adapter) observe(err error, botAuth, message bool) {
	if message {
		if err == nil {
			a.metrics.MessageSent()
		} else {
			a.metrics.SendFailed(sendErrorKind(err))
		}
	}
	if err != nil && botAuth && isStatus(err, http.StatusUnauthorized) {
		a.gw.setFatal(ErrUnauthorized)
	}
}

// QueueDepth returns how many events have been received and wait to be
// handled, over all people's queues (the one being handled not counted).
func (a *Adapter) QueueDepth() int {
	a.queue.mu.Lock()
	defer a.queue.mu.Unlock()
	return a.queue.waiting
}

// gatewayState is what Health reports, kept from discordgo's Connect and
// Disconnect events (reading the Session's fields would take its lock,
// which Open holds while it dials).
type gatewayState struct {
	mu        sync.Mutex
	connected bool
	down      time.Time // when the gateway was last lost; zero before
	fatal     error
}

func (g *gatewayState) setFatal(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fatal == nil {
		g.fatal = err
	}
}

// onConnect runs once the gateway has sent READY or RESUMED, at start and
// after each reconnect.
func (a *Adapter) onConnect(_ *discordgo.Session, _ *discordgo.Connect) {
	a.gw.mu.Lock()
	a.gw.connected = true
	a.gw.mu.Unlock()
}

// onDisconnect runs when the gateway connection is closed: dropped,
// heartbeats unanswered, or on shutdown. discordgo then reconnects on its
// own, with a growing wait between tries.
func (a *Adapter) onDisconnect(_ *discordgo.Session, _ *discordgo.Disconnect) {
	a.gw.mu.Lock()
	if a.gw.connected {
		a.gw.down = time.Now()
	}
	a.gw.connected = false
	a.gw.mu.Unlock()
}

// Health returns nil while the adapter is connected: the gateway
// connection is up (READY or RESUMED received and not lost since) and
// Discord has not refused the token. Otherwise it says what is wrong,
// without secrets. A reconnect after a dropped connection takes a second
// or more, during which Health reports the gateway down.
func (a *Adapter) Health() error {
	a.gw.mu.Lock()
	defer a.gw.mu.Unlock()
	switch {
	case a.gw.fatal != nil:
		return fmt.Errorf("discord: %w", a.gw.fatal)
	case a.closing.Load():
		return errors.New("discord: shutting down")
	case a.gw.connected:
		return nil
	case a.gw.down.IsZero():
		return errors.New("discord: gateway not connected yet")
	}
	return fmt.Errorf("discord: gateway disconnected since %s; reconnecting", a.gw.down.UTC().Format(time.RFC3339))
}
