package telegram

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// markEvery is how long handled update ids gather before they are written
// in one transaction. SQLite has one writer, which every reflection also
// needs: one write per update would take a fifth of its time.
const markEvery = 10 * time.Millisecond

// marks records handled updates in the UpdateLog in batches. Ids not yet
// written are kept in memory, so that a repeat is caught in the meantime
// too. Marking deletes the update from the inbox (inbox.go). A crash loses
// the marks not yet written (the last markEvery, plus the wait for the
// writer connection under load), and the inbox hands those updates over
// again at the next start: they are handled twice.
type marks struct {
	log     UpdateLog
	now     func() time.Time
	logger  *slog.Logger
	mu      sync.Mutex
	pending []int64
	unsaved map[int64]bool // pending, or being written
	kick    chan struct{}  // cap 1: there is something to write
	stop    chan struct{}
	done    chan struct{}
}

func newMarks(log UpdateLog, now func() time.Time, logger *slog.Logger) *marks {
	return &marks{log: log, now: now, logger: logger, unsaved: map[int64]bool{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// handled reports whether update id was handled: recently in this process,
// or within 24 hours according to the UpdateLog.
func (m *marks) handled(ctx context.Context, id int64) (bool, error) {
	m.mu.Lock()
	seen := m.unsaved[id]
	m.mu.Unlock()
	if seen {
		return true, nil
	}
	return m.log.TelegramUpdateHandled(ctx, id, m.now())
}

// mark queues id to be recorded as handled.
func (m *marks) mark(id int64) {
	m.mu.Lock()
	m.pending = append(m.pending, id)
	m.unsaved[id] = true
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// run writes batches until close is called, then writes what is left.
func (m *marks) run() {
	defer close(m.done)
	batchLoop(m.kick, m.stop, m.flush)
	m.flush()
}

// batchLoop calls flush markEvery after each kick (at once if stop closes
// meanwhile), until stop is closed: the write loop of marks and recorder.
// The caller writes what is left.
func batchLoop(kick, stop <-chan struct{}, flush func()) {
	for {
		select {
		case <-kick:
			t := time.NewTimer(markEvery)
			select {
			case <-t.C:
			case <-stop:
				t.Stop()
			}
			flush()
		case <-stop:
			return
		}
	}
}

func (m *marks) flush() {
	m.mu.Lock()
	ids := m.pending
	m.pending = nil
	m.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	// Not the handlers' context: a batch must be written even while
	// shutting down.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.log.MarkTelegramUpdatesHandled(ctx, ids, m.now()); err != nil {
		m.logger.Error("telegram: record handled updates", "count", len(ids), "err", err)
	}
	m.mu.Lock()
	for _, id := range ids {
		delete(m.unsaved, id)
	}
	m.mu.Unlock()
}

// close writes the last batch and stops.
func (m *marks) close() {
	close(m.stop)
	<-m.done
}
