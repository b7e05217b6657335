package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/scheduler"
	"github.com/trustbot/trustbot/storage"
	"github.com/trustbot/trustbot/storage/storagetest"
)

// The benchmarks' databases are built once per run (seconds for a million
// people), in a directory removed at the end. Plain `go test` builds none.
var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

const benchSlots = 10 // minutes in a row, each with its own due people

var (
	benchT0    = time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)
	benchZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"}
	benchDBs   = map[int]*benchDB{}
)

type benchDB struct {
	path string
	due  int // people due in each slot
	next int // sweeps made so far, across benchmarks
}

// benchDatabase returns a database of n people: 3% of them due in each of
// benchSlots consecutive minutes from benchT0, the rest a year away, in
// five zones. Everyone counts as answering (LastSeenAt is far
// ahead), so each slot's people are due again a day later and the back-off
// stays out of the figures.
func benchDatabase(b *testing.B, n int) *benchDB {
	b.Helper()
	if db, ok := benchDBs[n]; ok {
		return db
	}
	if benchDir == "" {
		dir, err := os.MkdirTemp("", "trustbot-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
	}
	db := &benchDB{path: filepath.Join(benchDir, fmt.Sprintf("users-%d.db", n)), due: n * 3 / 100}
	locs := make([]*time.Location, len(benchZones))
	for i, z := range benchZones {
		locs[i], _ = time.LoadLocation(z)
	}
	start := time.Now()
	err := storagetest.SeedUsers(db.path, n, func(i int, u *bot.User) {
		at := benchT0.Add(time.Duration(i/db.due) * time.Minute)
		if i/db.due >= benchSlots {
			at = benchT0.AddDate(1, 0, 0).Add(time.Duration(i%(24*60)) * time.Minute)
		}
		loc := locs[i%len(locs)]
		u.TimeZone, u.NudgeTime, u.NextDue = loc.String(), at.In(loc).Format("15:04"), at
		u.StartedAt, u.LastSeenAt = benchT0.AddDate(0, 0, -3), benchT0.AddDate(2, 0, 0)
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built a database of %d people in %s", n, time.Since(start).Round(time.Millisecond))
	benchDBs[n] = db
	return db
}

// benchDays is how many days of slots the sweeps may use: from 1 June,
// before any of the zones changes its clocks (the people's times are fixed
// local times, so their instants would move).
const benchDays = 100

// nextSweep returns the moment of the next slot: minute k of day d.
func (db *benchDB) nextSweep(b *testing.B) time.Time {
	k := db.next
	if k >= benchDays*benchSlots {
		b.Fatalf("more than %d sweeps in one run; use a smaller -benchtime or -count", benchDays*benchSlots)
	}
	db.next++
	return benchT0.AddDate(0, 0, k/benchSlots).Add(time.Duration(k%benchSlots) * time.Minute)
}

// timedStore times each batch at the store: from asking who is due to the
// claim's commit (the scheduler's decisions happen in between).
type timedStore struct {
	*storage.Store
	start   time.Time
	batches []time.Duration
}

func (t *timedStore) DueUsers(ctx context.Context, now time.Time, limit int) ([]*bot.User, error) {
	t.start = time.Now()
	return t.Store.DueUsers(ctx, now, limit)
}

func (t *timedStore) ClaimNudges(ctx context.Context, now time.Time, ns []*bot.Nudge) error {
	err := t.Store.ClaimNudges(ctx, now, ns)
	t.batches = append(t.batches, time.Since(t.start))
	return err
}

// percentile returns the p-th percentile of ds, in milliseconds.
func percentile(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[int(p/100*float64(len(s)-1))].Microseconds()) / 1000
}

type discard struct{}

func (discard) Send(context.Context, bot.Address, []bot.Reply) error { return nil }

func benchScheduler(st scheduler.Store, eng *bot.Engine) *scheduler.Scheduler {
	return &scheduler.Scheduler{Store: st, Nudger: eng,
		Senders: map[bot.Platform]bot.Sender{bot.PlatformTelegram: discard{}}}
}

// BenchmarkSweep sweeps a slot of 3% of the people: 30,000 of 1,000,000.
// Reported: claim-ms/op, finding and claiming all of them (target < 1000);
// batch-p50-ms, batch-p99-ms and max-batch-ms over every batch of 100
// (target < 5); heap-MB, the Go heap in use after the sweeps, to compare
// across sizes (flat within 10 MB).
// ns/op includes rendering, sending (to a no-op sender) and recording.
func BenchmarkSweep(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			db := benchDatabase(b, n)
			st, err := storage.Open(db.path)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			timed := &timedStore{Store: st}
			sched := benchScheduler(timed, &bot.Engine{Program: content.Default(), Store: st, Schedule: scheduler.Planner{}})
			ctx := context.Background()
			var claim, maxBatch time.Duration
			sweeps := 0
			for b.Loop() {
				s, err := sched.Sweep(ctx, db.nextSweep(b))
				if err != nil {
					b.Fatal(err)
				}
				if s.Sent != db.due || s.Due != db.due {
					b.Fatalf("sweep: %+v, want %d due and sent", s, db.due)
				}
				claim += s.ClaimTime
				maxBatch = max(maxBatch, s.MaxBatch)
				sweeps++
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(db.due), "due")
			b.ReportMetric(float64(claim.Microseconds())/1000/float64(sweeps), "claim-ms/op")
			b.ReportMetric(float64(maxBatch.Microseconds())/1000, "max-batch-ms")
			b.ReportMetric(percentile(timed.batches, 50), "batch-p50-ms")
			b.ReportMetric(percentile(timed.batches, 99), "batch-p99-ms")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		})
	}
}

// BenchmarkSweepNobodyDue is the sweep of almost every minute: one index
// probe that finds nobody (target < 1 ms).
func BenchmarkSweepNobodyDue(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			db := benchDatabase(b, n)
			st, err := storage.Open(db.path)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			sched := benchScheduler(st, &bot.Engine{Program: content.Default(), Store: st, Schedule: scheduler.Planner{}})
			ctx := context.Background()
			before := benchT0.Add(-time.Minute)
			b.ReportAllocs()
			for b.Loop() {
				s, err := sched.Sweep(ctx, before)
				if err != nil || s.Due != 0 {
					b.Fatalf("sweep: %+v, %v; want nobody due", s, err)
				}
			}
		})
	}
}
