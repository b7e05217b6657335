package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-telegram/bot/models"
)

// secretHeader carries the webhook secret in every update Telegram POSTs.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxUpdateBytes bounds a webhook body; updates are a few kilobytes.
const maxUpdateBytes = 1 << 20

// handler is the webhook's HTTP handler: updates are POSTed to the path of
// Options.PublicURL, and GET /healthz answers 200 while the adapter runs
// (or Options.HTTP answers everything else).
func (a *Adapter) handler() http.Handler {
	path := "/"
	if u, err := url.Parse(a.opts.PublicURL); err == nil && u.Path != "" {
		path = u.Path
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+path, a.serveUpdate)
	if a.opts.HTTP != nil {
		mux.Handle("/", a.opts.HTTP)
		return mux
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if a.isStopping() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	return mux
}

// isStopping reports whether Run is shutting down.
func (a *Adapter) isStopping() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopping
}

// serveUpdate accepts one update from Telegram. The library's own webhook
// handler answers 200 even when the secret is wrong; this one refuses.
func (a *Adapter) serveUpdate(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get(secretHeader)
	if got == "" {
		http.Error(w, "missing "+secretHeader, http.StatusUnauthorized)
		return
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(a.opts.Secret)) != 1 {
		http.Error(w, "wrong "+secretHeader, http.StatusForbidden)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
	if err != nil {
		http.Error(w, "update too large or cut off", http.StatusBadRequest)
		return
	}
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		http.Error(w, "not a Telegram update", http.StatusBadRequest)
		return
	}
	if a.isStopping() {
		// Not 2xx: Telegram keeps the update and delivers it again later.
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if a.inbox != nil {
		// Answer 200 only once the update is safe (see inbox.go).
		if err := a.inbox.save(r.Context(), []int64{u.ID}, [][]byte{raw}); err != nil {
			a.log.Error("telegram: could not store a received update; Telegram will deliver it again", "update", u.ID, "err", err)
			http.Error(w, "could not store the update", http.StatusServiceUnavailable)
			return
		}
	}
	a.enqueue(&u)
	w.WriteHeader(http.StatusOK)
}

// runWebhook serves the webhook until ctx is done, then stops accepting
// updates and waits for the requests in progress.
func (a *Adapter) runWebhook(ctx context.Context) error {
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	a.log.Info("telegram: webhook listening", "addr", a.listener.Addr().String())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("telegram: webhook server on %s: %w", a.listener.Addr(), err)
	}
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.Background(), a.opts.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		a.log.Warn("telegram: webhook shutdown", "err", serr)
	}
	return err
}
