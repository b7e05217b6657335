package main

// Metrics: the Prometheus collectors behind /metrics. The adapters and the
// scheduler know nothing of Prometheus: they call plain hooks
// (telegram.Metrics, scheduler.Scheduler.Observe), which this file
// implements. Every metric is a count or a duration: nothing about any one
// person, and never any text.

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trustbot/trustbot/adapters/telegram"
	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/scheduler"
)

// metrics holds trustbot's collectors, in a registry of its own (not the
// global one, so that tests can run several).
type metrics struct {
	reg        *prometheus.Registry
	updates    *prometheus.CounterVec // platform
	replies    *prometheus.CounterVec // platform
	sendErrors *prometheus.CounterVec // platform, kind
	nudges     *prometheus.CounterVec // outcome
	sweeps     prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_updates_received_total",
			Help: "Updates (messages, button presses, ...) received from the platform.",
		}, []string{"platform"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_replies_sent_total",
			Help: "Messages the platform accepted: replies and daily prompts.",
		}, []string{"platform"}),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_send_errors_total",
			Help: "Failed tries to send a message, by kind: 429, 403, 400, 5xx, network, other. A retried message counts each failed try.",
		}, []string{"platform", "kind"}),
		nudges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustbot_nudges_total",
			Help: "Daily prompts by outcome: claimed (taken to be sent), sent, skipped (a day found too late, or its platform not running), retry, failed, unreachable, unknown (cut off mid-send).",
		}, []string{"outcome"}),
		sweeps: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trustbot_sweep_duration_seconds",
			Help:    "How long each daily-prompt sweep took, claiming and sending.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30, 60, 300},
		}),
	}
	m.reg.MustRegister(m.updates, m.replies, m.sendErrors, m.nudges, m.sweeps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every outcome shows from the start, at 0, so that rates work at once.
	for _, o := range []string{"claimed", "sent", "skipped", "retry", "failed", "unreachable", "unknown"} {
		m.nudges.WithLabelValues(o)
	}
	return m
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// platform returns the hooks of one platform's adapter.
func (m *metrics) platform(p bot.Platform) platformMetrics {
	name := string(p)
	m.updates.WithLabelValues(name)
	m.replies.WithLabelValues(name)
	for _, k := range []string{telegram.SendError429, telegram.SendError403, telegram.SendError5xx} {
		m.sendErrors.WithLabelValues(name, k)
	}
	return platformMetrics{m: m, name: name}
}

// queueDepth reports depth() as the platform's queue depth at each scrape.
func (m *metrics) queueDepth(p bot.Platform, depth func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "trustbot_queue_depth",
		Help:        "Updates received and waiting to be handled.",
		ConstLabels: prometheus.Labels{"platform": string(p)},
	}, func() float64 { return float64(depth()) }))
}

// swept records a sweep of the scheduler.
func (m *metrics) swept(st scheduler.Stats, took time.Duration) {
	m.sweeps.Observe(took.Seconds())
	for o, n := range map[string]int{
		"claimed": st.Claimed, "sent": st.Sent, "skipped": st.Skipped, "retry": st.Retry,
		"failed": st.Failed, "unreachable": st.Unreachable, "unknown": st.Unknown,
	} {
		if n > 0 {
			m.nudges.WithLabelValues(o).Add(float64(n))
		}
	}
}

// platformMetrics are the hooks of one platform's adapter.
type platformMetrics struct {
	m    *metrics
	name string
}

var _ telegram.Metrics = platformMetrics{}

func (p platformMetrics) UpdateReceived() { p.m.updates.WithLabelValues(p.name).Inc() }
func (p platformMetrics) MessageSent()    { p.m.replies.WithLabelValues(p.name).Inc() }
func (p platformMetrics) SendFailed(kind string) {
	p.m.sendErrors.WithLabelValues(p.name, kind).Inc()
}
