package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// outcome classifies a failed send.
type outcome int

const (
	failRejected    outcome = iota + 1 // a 400 or similar: retrying cannot help
	failUnreachable                    // 403, or the chat is gone: the person cannot be messaged
	failTransient                      // 5xx, network, shutdown: a later try may work
)

// sendError is a send that failed for good. Its message holds the method
// and Telegram's description, never the message text or the token.
type sendError struct {
	kind   outcome
	method string
	desc   string
}

func (e *sendError) Error() string { return fmt.Sprintf("telegram: %s: %s", e.method, e.desc) }

// Per-request deadlines: a send that hangs longer is retried.
const (
	sendTimeout     = 30 * time.Second
	documentTimeout = 2 * time.Minute
	// max429 bounds the retries of one message after 429s, as a guard
	// against a server that never lets up; each waits retry_after.
	max429 = 50
)

// deliver sends m to chatID: it waits for the pacer, retries 429s after
// retry_after and 5xx and network errors with backoff, and returns the id of
// the (last) message sent. A group that became a supergroup is followed to
// its new id.
func (a *Adapter) deliver(ctx context.Context, chatID int64, m outMsg) (int, error) {
	method := "sendMessage"
	if m.doc != nil {
		method = "sendDocument"
	}
	failures, limited := 0, 0
	for {
		if err := a.pace.wait(ctx, chatID); err != nil {
			return 0, &sendError{failTransient, method, "gave up waiting for the rate limiter: " + err.Error()}
		}
		id, err := a.call(ctx, chatID, m)
		if err == nil {
			a.metrics.MessageSent()
			return id, nil
		}
		if ctx.Err() == nil {
			a.metrics.SendFailed(sendErrorKind(err))
		}
		var tooMany *tgbot.TooManyRequestsError
		var migrate *tgbot.MigrateError
		switch {
		case ctx.Err() != nil:
			return 0, &sendError{failTransient, method, "not sent before shutdown: " + ctx.Err().Error()}
		case errors.As(err, &tooMany):
			limited++
			if limited > max429 {
				return 0, &sendError{failTransient, method, fmt.Sprintf("still rate limited after %d tries", limited)}
			}
			wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
			a.pace.block(chatID, time.Now().Add(wait))
			a.log.Warn("telegram: rate limited (429); retrying the same message", "method", method, "chat", chatID, "retry_after", wait)
			if err := sleep(ctx, wait); err != nil {
				return 0, &sendError{failTransient, method, "not sent before shutdown (rate limited)"}
			}
		case errors.As(err, &migrate) && migrate.MigrateToChatID != 0:
			a.log.Info("telegram: group became a supergroup; sending to its new id", "chat", chatID, "new_chat", migrate.MigrateToChatID)
			chatID = int64(migrate.MigrateToChatID)
		case errors.Is(err, tgbot.ErrorForbidden), isChatGone(err):
			return 0, &sendError{failUnreachable, method, a.describe(err)}
		case errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, tgbot.ErrorUnauthorized),
			errors.Is(err, tgbot.ErrorNotFound), errors.Is(err, tgbot.ErrorConflict):
			return 0, &sendError{failRejected, method, a.describe(err)}
		default: // 5xx, a broken connection, a garbled answer
			failures++
			if failures >= a.opts.MaxAttempts {
				return 0, &sendError{failTransient, method, fmt.Sprintf("gave up after %d tries: %s", failures, a.describe(err))}
			}
			wait := a.backoff(failures)
			a.log.Warn("telegram: send failed; retrying", "method", method, "chat", chatID, "attempt", failures, "wait", wait, "err", a.describe(err))
			if err := sleep(ctx, wait); err != nil {
				return 0, &sendError{failTransient, method, "not sent before shutdown: " + a.describe(err)}
			}
		}
	}
}

// backoff is the wait before retry n (1-based): exponential from
// RetryBackoff, capped at 30 s, with ±20% jitter so that many senders do not
// retry in step.
func (a *Adapter) backoff(n int) time.Duration {
	d := a.opts.RetryBackoff << min(n-1, 10)
	d = min(d, 30*time.Second)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// isChatGone reports a 400 saying the chat does not exist (any more), which
// Telegram also answers for a user who deleted their account.
func isChatGone(err error) bool {
	if !errors.Is(err, tgbot.ErrorBadRequest) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "chat not found") || strings.Contains(msg, "user not found") ||
		strings.Contains(msg, "group chat was deactivated") || strings.Contains(msg, "peer_id_invalid")
}

// call makes one API call for m.
func (a *Adapter) call(ctx context.Context, chatID int64, m outMsg) (int, error) {
	var markup models.ReplyMarkup
	if m.keyboard != nil {
		markup = m.keyboard // our own type: the library's button struct always sends an empty copy_text
	}
	if m.doc == nil {
		ctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		msg, err := a.client.SendMessage(ctx, &tgbot.SendMessageParams{
			ChatID: chatID, Text: m.html, ParseMode: models.ParseModeHTML,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
			ReplyMarkup:        markup,
			ProtectContent:     m.protect,
		})
		if err != nil {
			return 0, err
		}
		return msg.ID, nil
	}
	ctx, cancel := context.WithTimeout(ctx, documentTimeout)
	defer cancel()
	p := &tgbot.SendDocumentParams{
		ChatID: chatID,
		// A fresh reader per try: a retried upload starts from the beginning.
		Document:       &models.InputFileUpload{Filename: m.doc.Name, Data: bytes.NewReader(m.doc.Data)},
		ReplyMarkup:    markup,
		ProtectContent: m.protect,
	}
	if m.html != "" {
		p.Caption, p.ParseMode = m.html, models.ParseModeHTML
	}
	msg, err := a.client.SendDocument(ctx, p)
	if err != nil {
		return 0, err
	}
	return msg.ID, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// describe turns an error from the library into text that is safe to log
// and show: the kind of failure and Telegram's description, without the
// token or any response body (which may quote people's messages). Where a
// description quotes what it was sent (Telegram puts the tag, entity or
// text it could not parse in double quotes), the quote is left out.
func (a *Adapter) describe(err error) string {
	if err == nil {
		return ""
	}
	var tooMany *tgbot.TooManyRequestsError
	var migrate *tgbot.MigrateError
	var uerr *url.Error
	var msg string
	switch {
	case errors.As(err, &tooMany):
		msg = fmt.Sprintf("429 Too Many Requests (retry after %d s)", tooMany.RetryAfter)
	case errors.As(err, &migrate):
		msg = migrate.Message
	case errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, tgbot.ErrorForbidden),
		errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound),
		errors.Is(err, tgbot.ErrorConflict):
		// The library formats these as "<kind>, <description>" after its
		// own prefixes.
		msg = err.Error()
		for _, kind := range []error{tgbot.ErrorBadRequest, tgbot.ErrorForbidden, tgbot.ErrorUnauthorized, tgbot.ErrorNotFound, tgbot.ErrorConflict} {
			if i := strings.Index(msg, kind.Error()+", "); errors.Is(err, kind) && i >= 0 {
				msg = msg[i+len(kind.Error())+2:]
				break
			}
		}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		msg = "request cancelled or timed out: " + err.Error()
	case errors.As(err, &uerr):
		msg = "network: " + uerr.Err.Error()
	case strings.Contains(err.Error(), "error decode response"):
		// The library quotes the whole body, which may hold messages.
		msg = "the Bot API sent an answer that is not JSON (a proxy error page?)"
	default:
		msg = err.Error()
		if m := statusRE.FindStringSubmatchIndex(msg); m != nil {
			// A 5xx: its description is the server's (or a proxy's) own
			// text, free-form; the status says enough.
			code, _ := strconv.Atoi(msg[m[2]:m[3]])
			msg = msg[:m[0]] + msg[m[2]:m[3]] + " " + http.StatusText(code)
		} else if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
	}
	msg = quotedRE.ReplaceAllString(msg, `"…"`)
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "…"
	}
	return a.redact(msg)
}

// statusRE matches the library's error for a status it has no error for.
// It may come wrapped ("error get updates, error response from ...").
var statusRE = regexp.MustCompile(`error response from telegram for method \w+, (\d{3})\b`)

// quotedRE matches a double-quoted part of a description, or a quote left
// open to the end.
var quotedRE = regexp.MustCompile(`"[^"]*("|$)`)

// redact removes the token and the webhook secret from s.
func (a *Adapter) redact(s string) string {
	if a.opts.Token != "" {
		s = strings.ReplaceAll(s, a.opts.Token, "<token>")
	}
	if a.opts.Secret != "" {
		s = strings.ReplaceAll(s, a.opts.Secret, "<secret>")
	}
	return s
}
