package main

// The operator's HTTP endpoints: GET /healthz and GET /metrics.
//
// Where they are served:
//   - [http] listen set, and Telegram not in webhook mode on that same
//     address: on a listener of their own at [http] listen.
//   - [http] listen equal to [telegram] listen in webhook mode: on the
//     webhook's listener, beside the updates Telegram posts (one port).
//   - [http] listen empty: no /metrics anywhere (metrics are opt-in, and a
//     webhook listener is often reachable through the TLS proxy); in
//     webhook mode the webhook's listener still answers /healthz, with
//     the full check below.
//
// /healthz answers 200 when the database can be read and every platform is
// connected, and 503 otherwise, with a short JSON body naming each check.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram"
)

// HTTPConfig is the [http] table.
type HTTPConfig struct {
	// Listen is the address of /healthz and /metrics, like
	// "127.0.0.1:9090"; empty serves neither (see above).
	Listen string `toml:"listen"`
}

func (c HTTPConfig) validate(name string) error {
	if c.Listen == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return configErrorf("%s: http.listen: %q is not a host:port address, like \"127.0.0.1:9090\"", name, c.Listen)
	}
	return nil
}

// onWebhook reports whether the endpoints go on the Telegram webhook's
// listener.
func (c Config) onWebhook() bool {
	return c.Telegram.Enabled && c.Telegram.Mode == string(telegram.ModeWebhook) &&
		(c.HTTP.Listen == "" || c.HTTP.Listen == c.Telegram.Listen)
}

// endpoints returns the handler of /healthz, and of /metrics when withMetrics.
func (a *app) endpoints(withMetrics bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", a.health)
	if withMetrics {
		mux.Handle("GET /metrics", a.metrics.handler())
	}
	return mux
}

// serveHTTP starts the endpoints on [http] listen when they have a
// listener of their own, and returns a function that stops them.
func (a *app) serveHTTP() (stop func(), err error) {
	if a.cfg.HTTP.Listen == "" || a.cfg.onWebhook() {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.endpoints(true),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http: /healthz and /metrics stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	a.log.Info("http: serving /healthz and /metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// health answers /healthz.
type health struct {
	store interface{ Ping(context.Context) error }

	mu     sync.Mutex
	checks []namedCheck // the platforms, in the order they started
}

type namedCheck struct {
	name  string
	check func() error
}

// add adds a check of a platform; check returns nil when it is connected.
func (h *health) add(name string, check func() error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks = append(h.checks, namedCheck{name, check})
}

// report runs every check: "ok" or what is wrong, by name.
func (h *health) report(ctx context.Context) (map[string]string, bool) {
	out := map[string]string{}
	healthy := true
	note := func(name string, err error) {
		if err != nil {
			out[name], healthy = err.Error(), false
			return
		}
		out[name] = "ok"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	note("storage", h.store.Ping(ctx))
	h.mu.Lock()
	checks := append([]namedCheck(nil), h.checks...)
	h.mu.Unlock()
	if len(checks) == 0 {
		note("platforms", errors.New("none running yet"))
	}
	for _, c := range checks {
		note(c.name, c.check())
	}
	return out, healthy
}

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	checks, ok := h.report(r.Context())
	body := struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}{"ok", checks}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		body.Status = "unavailable"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}

// watch adds p's health check: connected while its run has not returned
// and, if its adapter can tell (a Health method), while that says so. The
// returned function marks p stopped. It also reports p's queue depth when
// its adapter has a QueueDepth method.
func (a *app) watch(p platform) (stopped func()) {
	var mu sync.Mutex
	running := true
	h, _ := p.sender.(interface{ Health() error })
	a.health.add(string(p.name), func() error {
		mu.Lock()
		r := running
		mu.Unlock()
		switch {
		case !r:
			return errors.New("stopped")
		case h != nil:
			return h.Health()
		}
		return nil
	})
	if q, ok := p.sender.(interface{ QueueDepth() int }); ok {
		a.metrics.queueDepth(p.name, q.QueueDepth)
	}
	return func() {
		mu.Lock()
		running = false
		mu.Unlock()
	}
}
