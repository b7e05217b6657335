package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/go-telegram/bot/models"
)

// The inbox. The library confirms a batch of polled updates to Telegram
// (by asking for offset = last id + 1) as soon as it has passed the batch
// to our queues, and a webhook answers 200 before the update is handled;
// a crash in between would lose updates nobody answered. So every update
// is written to the Inbox first, and confirmed only after that write:
//
//   - polling: observedClient reads each getUpdates answer and stores its
//     updates (one transaction, one fsync, per answer) before the library
//     sees them; if that fails, the library gets an error and asks for the
//     same offset again.
//   - webhook: serveUpdate stores the update before answering 200; the
//     writes of concurrent requests are grouped (inboxWriter).
//
// Marking an update handled (marks.go) deletes it from the inbox, and Run
// hands the updates left there by a crash to the per-chat queues, in
// order, before it receives new ones. Handled ones are dropped by the
// usual check against the update log.

// inboxWriter groups concurrent inbox writes: while one transaction is
// being written, the updates that arrive meanwhile gather, and the next
// writer writes them all at once.
type inboxWriter struct {
	inbox Inbox
	write sync.Mutex // held while a batch is written

	mu  sync.Mutex
	cur *inboxBatch // gathering, not yet taken by a writer
}

type inboxBatch struct {
	ids  []int64
	raws [][]byte
	done chan struct{} // closed when written; err is then set
	err  error
}

// save stores the updates durably, or returns why it could not.
func (w *inboxWriter) save(ctx context.Context, ids []int64, raws [][]byte) error {
	w.mu.Lock()
	b := w.cur
	if b == nil {
		b = &inboxBatch{done: make(chan struct{})}
		w.cur = b
	}
	b.ids = append(b.ids, ids...)
	b.raws = append(b.raws, raws...)
	w.mu.Unlock()

	w.write.Lock()
	w.mu.Lock()
	mine := w.cur == b // else another caller wrote it while we waited
	if mine {
		w.cur = nil
	}
	w.mu.Unlock()
	if mine {
		// Not the request's context: a batch holds other callers' updates.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		b.err = w.inbox.AddTelegramInbox(wctx, b.ids, b.raws)
		cancel()
		close(b.done)
	}
	w.write.Unlock()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keepPolled stores the updates of a getUpdates answer in the inbox and
// returns resp with its body restored for the library. On error the
// response is closed and the library must not see its updates.
func (a *Adapter) keepPolled(ctx context.Context, resp *http.Response) (*http.Response, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read getUpdates answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var answer struct {
		OK     bool              `json:"ok"`
		Result []json.RawMessage `json:"result"`
	}
	if json.Unmarshal(body, &answer) != nil || !answer.OK || len(answer.Result) == 0 {
		return resp, nil // nothing to keep; the library reports what is wrong
	}
	ids := make([]int64, 0, len(answer.Result))
	raws := make([][]byte, 0, len(answer.Result))
	for _, raw := range answer.Result {
		var u struct {
			ID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, errors.New("getUpdates answered an update that is not a JSON object")
		}
		ids = append(ids, u.ID)
		raws = append(raws, raw)
	}
	if err := a.inbox.save(ctx, ids, raws); err != nil {
		if ctx.Err() != nil {
			return nil, err // shutting down: the library stops polling
		}
		a.log.Error("telegram: could not store received updates; Telegram will deliver them again", "count", len(ids), "err", err)
		return nil, fmt.Errorf("store %d received updates: %w", len(ids), err)
	}
	return resp, nil
}

// replay hands the updates left in the inbox (received before a crash or
// a shutdown, not handled) to the per-chat queues, in update id order.
func (a *Adapter) replay(ctx context.Context) error {
	n := 0
	err := a.inbox.inbox.TelegramInbox(ctx, func(id int64, raw []byte) error {
		u := new(models.Update)
		if err := json.Unmarshal(raw, u); err != nil || u.ID != id {
			// Should not happen: it was stored as Telegram sent it.
			a.log.Error("telegram: dropped an unreadable update from the inbox", "update", id)
			a.marks.mark(id)
			return nil
		}
		n++
		a.enqueue(u)
		return nil
	})
	if n > 0 {
		a.log.Info("telegram: handling updates received before the last stop", "count", n)
	}
	if err != nil {
		return fmt.Errorf("telegram: handle the updates received before the last stop: %w", err)
	}
	return nil
}
