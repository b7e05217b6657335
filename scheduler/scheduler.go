// Package scheduler sends each person one gentle prompt a day, at the time
// they chose, in their own time zone, through their platform's bot.Sender.
//
// There is one job, a sweep, which robfig/cron runs at every tick (default
// once a minute). No timer, goroutine or cron entry exists per person: each
// person's next due instant is a UTC column in SQLite (users.next_due,
// indexed), so memory does not grow with the number of people and a restart
// loses nothing. A sweep reads the due people in batches, decides for each
// (Planner and decide), and claims the batch in one durable transaction
// before anything is sent. A claim is a row keyed by (person, local date):
// its primary key makes a second prompt for the same local day impossible,
// also across restarts, overlapping sweeps or two processes on one database.
// The claim moves next_due on to the next day at the same moment, so each
// person gets at most one prompt per sweep whatever the backlog.
//
// Claimed prompts go to a bounded pool of senders (Workers), so a slow
// platform does not hold up claiming the rest; the claiming waits only when
// the pool's queue is full, which keeps the number of claimed-but-unsent
// prompts small. Outcomes are recorded in batches: sent; unreachable (the
// person is marked unreachable and gets nothing until they write again);
// transient (retried on a later sweep the same local day, outside quiet
// hours, up to MaxAttempts); or failed.
//
// At most once. A prompt whose outcome is unknown is never sent again: a
// crash or kill between the claim and the outcome leaves the claim in state
// 'claimed' with next_due already on the next day (the claim is fsynced
// before the send, so not even a power loss undoes it), and a send cut off
// at shutdown is treated the same way. Rather a missed prompt than a
// duplicate. Prompts claimed but not yet handed to a sender when shutdown
// begins were certainly not sent; they are released to be claimed again.
//
// Downtime. A prompt found late (more than OnTime after it was due) is a
// catch-up: it is sent once if it is still the same local day and not quiet
// hours; in quiet hours it waits for their end if that is still the same
// day; otherwise the day is skipped. Quiet hours apply to every prompt whose
// moment the person did not choose (catch-ups, retries, back-off prompts); a
// time set with /time is honoured even inside them.
//
// When prompts are due (time zones, daylight saving, back-off, pauses) is
// the Planner's part; the engine uses the same Planner to plan the next
// prompt when a person changes their settings.
//
// Shutdown (Run's context done): no new sweep starts, the running one stops
// claiming, in-flight sends get StopTimeout to finish, then Run returns nil.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/trustbot/trustbot/bot"
)

// Store is what the scheduler needs from the database; storage.Store
// implements it.
type Store interface {
	// DueUsers returns up to limit people whose NextDue is at or before
	// now, earliest first.
	DueUsers(ctx context.Context, now time.Time, limit int) ([]*bot.User, error)
	// ClaimNudges applies a batch of decisions in one durable transaction:
	// claims (person, local date) pairs, storing the schedule that follows,
	// and moves NextDue for the rest; see bot.Nudge.
	ClaimNudges(ctx context.Context, now time.Time, ns []*bot.Nudge) error
	// FinishNudges records the outcomes of claimed nudges.
	FinishNudges(ctx context.Context, now time.Time, ns []*bot.Nudge) error
}

// Nudger renders a person's daily prompt, rotating their reflection
// prompt; it returns nil when none is due (the program is completed).
// *bot.Engine is one.
type Nudger interface {
	Nudge(u *bot.User) []bot.Reply
}

// Scheduler runs the daily sweep. Set Store, Nudger and Senders; every other
// field has a default. It implements bot.Scheduler through its Planner.
type Scheduler struct {
	Planner
	Store  Store
	Nudger Nudger
	// Senders deliver to each platform. People on a platform with no sender
	// (not enabled in this run) have their day skipped.
	Senders map[bot.Platform]bot.Sender

	// Tick is how often the sweep runs, in robfig/cron syntax; default
	// "@every 1m".
	Tick string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what happened, with person ids but never message text;
	// nil discards.
	Log *slog.Logger
	// Observe, if set, is called after each sweep that Run starts, with what
	// it did and how long it took (for metrics). It must not block.
	Observe func(st Stats, took time.Duration)

	Workers     int           // sends at a time; default 8
	Batch       int           // people read and claimed per transaction; default 100
	OnTime      time.Duration // how late a prompt still counts as on time; default 10m
	RetryDelay  time.Duration // first wait after a transient failure, doubling; default 5m
	MaxAttempts int           // sends of one day's prompt at most; default 4
	SendTimeout time.Duration // one send's limit; default 30s
	StopTimeout time.Duration // how long shutdown waits for sends; default 10s
}

var _ bot.Scheduler = (*Scheduler)(nil)

// CheckTick reports whether spec is a tick Run accepts, e.g. "@every 1m"
// or "*/5 * * * *".
func CheckTick(spec string) error {
	_, err := cron.ParseStandard(spec)
	return err
}

// Stats counts what a sweep did.
type Stats struct {
	Due         int // due people read
	Moved       int // rescheduled without a prompt: paused, completed, skipped or deferred days
	Skipped     int // of Moved, the days skipped (recorded as bot.NudgeSkipped)
	Lost        int // not claimed: changed meanwhile, or the day was claimed before
	Claimed     int
	Sent        int
	Retry       int // transient failures to retry later the same day, and claims released at shutdown
	Failed      int
	Unreachable int
	Unknown     int // cut off mid-send: counted as sent (at most once)
	Batches     int
	ClaimTime   time.Duration // finding and claiming, all batches
	MaxBatch    time.Duration // finding and claiming, the slowest batch
}

// Any reports whether the sweep found anybody due.
func (s Stats) Any() bool { return s.Due > 0 }

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (s *Scheduler) check() error {
	if s.Store == nil || s.Nudger == nil {
		return errors.New("scheduler: Store and Nudger must be set")
	}
	if s.Tick != "" {
		if err := CheckTick(s.Tick); err != nil {
			return fmt.Errorf("scheduler: tick %q: %w", s.Tick, err)
		}
	}
	return nil
}

// Run sweeps at every Tick until ctx is done. Then it starts no new sweep,
// stops the running one from claiming more, waits up to StopTimeout for
// in-flight sends (cutting off any still running then, whose prompts count
// as sent), and returns nil. It returns an error only for a bad setup.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	logger := cronLogger{s.log()}
	// Skip wraps Recover: a recovered panic returns normally, so the skip
	// guard's token goes back (the other order would lose it on a panic and
	// skip every later sweep).
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger),
		cron.WithChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)))
	// Claims stop the moment ctx ends; sends in flight get their own
	// context, cut off only after StopTimeout.
	sendCtx, stopSends := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSends()
	tick := s.Tick
	if tick == "" {
		tick = "@every 1m"
	}
	if _, err := c.AddFunc(tick, func() {
		start, now := time.Now(), s.now()
		st, err := s.sweep(ctx, sendCtx, now)
		if s.Observe != nil {
			s.Observe(st, time.Since(start))
		}
		if err != nil {
			s.log().Error("daily prompts: sweep failed; the next tick tries again", "err", err, "claimed", st.Claimed)
		} else if st.Any() {
			s.log().Info("daily prompts: sweep", "due", st.Due, "claimed", st.Claimed, "sent", st.Sent,
				"retry", st.Retry, "failed", st.Failed, "unreachable", st.Unreachable, "took", time.Since(start))
		}
	}); err != nil {
		return fmt.Errorf("scheduler: tick %q: %w", tick, err)
	}
	c.Start()
	<-ctx.Done()

	stopped := c.Stop() // done when the running sweep returns
	wait := time.NewTimer(orDefault(s.StopTimeout, 10*time.Second))
	defer wait.Stop()
	select {
	case <-stopped.Done():
		return nil
	case <-wait.C:
	}
	s.log().Warn("daily prompts: sends still running at shutdown were cut off; they count as sent")
	stopSends()
	grace := time.NewTimer(2 * time.Second) // for the outcomes to be written
	defer grace.Stop()
	select {
	case <-stopped.Done():
	case <-grace.C:
	}
	return nil
}

// Sweep runs one sweep at now: it claims every prompt due at or before now,
// sends them, records the outcomes, and returns when all are done. Tests
// call it with their own clock; Run calls it at every tick. If ctx ends, it
// stops claiming, prompts claimed but not yet handed to a sender are
// released, and sends in flight are cut off (and count as sent).
func (s *Scheduler) Sweep(ctx context.Context, now time.Time) (Stats, error) {
	if err := s.check(); err != nil {
		return Stats{}, err
	}
	return s.sweep(ctx, ctx, now)
}

// job is one claimed prompt on its way to a sender.
type job struct {
	n       *bot.Nudge
	due     time.Time // the instant it was due
	replies []bot.Reply
	sender  bot.Sender
}

func (s *Scheduler) sweep(claimCtx, sendCtx context.Context, now time.Time) (st Stats, err error) {
	batch := orDefault(s.Batch, 100)
	jobs := make(chan *job, batch)
	done := make(chan *job, batch)
	var workers sync.WaitGroup
	for range orDefault(s.Workers, 8) {
		workers.Go(func() {
			for j := range jobs {
				s.deliver(claimCtx, sendCtx, j, now)
				done <- j
			}
		})
	}
	recorded := make(chan error, 1)
	var outcomes Stats
	go func() { recorded <- s.record(context.WithoutCancel(sendCtx), now, done, &outcomes) }()

	// Deferred, so that a panic in claiming (recovered by cron) still lets
	// the sends finish and be recorded.
	defer func() {
		close(jobs)
		workers.Wait()
		close(done)
		err = errors.Join(err, <-recorded)
		st.Sent, st.Retry, st.Failed = outcomes.Sent, outcomes.Retry, outcomes.Failed
		st.Unreachable, st.Unknown = outcomes.Unreachable, outcomes.Unknown
	}()
	err = s.claim(claimCtx, now, batch, jobs, done, &st)
	return st, err
}

// claim reads and claims due people batch by batch and queues the claimed
// prompts, until nobody is due or ctx ends.
func (s *Scheduler) claim(ctx context.Context, now time.Time, batch int, jobs, done chan<- *job, st *Stats) error {
	var lastID int64
	var lastDue time.Time
	for ctx.Err() == nil {
		start := time.Now()
		us, err := s.Store.DueUsers(ctx, now, batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(us) == 0 {
			return nil
		}
		// Every batch moves its people's next_due past now, or someone
		// else did; the same head twice means nothing can move.
		if us[0].ID == lastID && us[0].NextDue.Equal(lastDue) {
			return fmt.Errorf("daily prompts: no progress at user %d (due %s); stopping this sweep", lastID, lastDue.Format(time.RFC3339))
		}
		lastID, lastDue = us[0].ID, us[0].NextDue

		js := make([]*job, len(us))
		ns := make([]*bot.Nudge, len(us))
		for i, u := range us {
			js[i] = s.decide(u, now)
			ns[i] = js[i].n
		}
		if err := s.Store.ClaimNudges(ctx, now, ns); err != nil {
			if ctx.Err() != nil {
				return nil // rolled back: nothing was claimed
			}
			return err
		}
		took := time.Since(start)
		st.Batches++
		st.Due += len(us)
		st.ClaimTime += took
		st.MaxBatch = max(st.MaxBatch, took)
		for _, j := range js {
			switch {
			case j.n.Date == "":
				st.Moved++
				if j.n.Skipped != "" {
					st.Skipped++
				}
				continue
			case !j.n.Claimed:
				st.Lost++
				continue
			}
			st.Claimed++
			select {
			case jobs <- j:
			case <-ctx.Done():
				s.release(j)
				done <- j
			}
		}
		if len(us) < batch {
			return nil
		}
	}
	return nil
}

// decide returns what to do with a due person: a claim with the prompt to
// send (n.Date set), or only a new NextDue. It updates u to the state to
// store.
func (s *Scheduler) decide(u *bot.User, now time.Time) *job {
	due := u.NextDue
	j := &job{n: &bot.Nudge{User: u, Was: due}, due: due}
	loc := bot.Zone(u.TimeZone)
	dueDay, today := dateOf(due, loc), dateOf(now, loc)
	skip := func() *job {
		u.NextDue = s.plan(u, now, dueDay.add(1))
		j.n.Skipped = dueDay.String()
		return j
	}
	pausing := u.Paused && (u.PausedUntil.IsZero() || now.Before(u.PausedUntil))
	if u.Completed || u.Unreachable || pausing {
		u.NextDue = s.NextDue(u, now)
		return j
	}
	j.sender = s.Senders[u.Platform]
	if j.sender == nil {
		return skip()
	}
	late := now.Sub(due)
	switch {
	case late <= orDefault(s.OnTime, 10*time.Minute):
	case dueDay == today && !s.quietAt(now, loc):
		// A late catch-up, the same day, outside quiet hours.
	case dueDay == today:
		if later := s.outOfQuiet(now, loc); dateOf(later, loc) == today {
			u.NextDue = later.UTC() // after the quiet hours, still today
			return j
		}
		return skip()
	default:
		return skip()
	}

	// before is the schedule to keep if this day turns out to be taken. A
	// retry of the same day keeps the streak as it is.
	before := *u
	if dateOf(u.LastNudgeAt, loc) != dueDay {
		if answered(u) {
			u.NudgeStreak = 1
		} else {
			u.NudgeStreak++
		}
		u.LastNudgeAt = due
	}
	j.replies = s.Nudger.Nudge(u)
	if len(j.replies) == 0 { // completed since: nothing more to send
		*u = before
		u.NextDue = s.NextDue(u, now)
		return j
	}
	u.NextDue = s.plan(u, now, dueDay.add(1))
	j.n.Date = dueDay.String()
	j.n.IfTaken = s.plan(&before, now, dueDay.add(1))
	return j
}

// deliver sends one claimed prompt and sets its outcome.
func (s *Scheduler) deliver(claimCtx, sendCtx context.Context, j *job, now time.Time) {
	if claimCtx.Err() != nil { // shutting down: it was never handed over
		s.release(j)
		return
	}
	n := j.n
	ctx, cancel := context.WithTimeout(sendCtx, orDefault(s.SendTimeout, 30*time.Second))
	err := safeSend(ctx, j.sender, bot.AddressOf(n.User), j.replies)
	cut := ctx.Err() != nil
	cancel()
	log := s.log().With("user", n.User.ID, "platform", n.User.Platform, "date", n.Date)
	switch {
	case err == nil:
		n.Status = bot.NudgeSent
	case cut:
		// It may have arrived: never again (at most once).
		n.Status = bot.NudgeClaimed
		log.Warn("daily prompt: send cut off; not retried", "err", err)
	case bot.ErrorCode(err) == bot.EUNREACHABLE:
		n.Status = bot.NudgeUnreachable
		log.Info("daily prompt: person unreachable; no prompts until they write again")
	case bot.ErrorCode(err) == bot.ETRANSIENT:
		s.retry(j, now, log, err)
	default:
		n.Status = bot.NudgeFailed
		log.Error("daily prompt: send failed", "err", err)
	}
}

// retry plans another try of a transiently failed prompt on a later sweep:
// the same local day, outside quiet hours, with doubling waits; or gives up
// for the day.
func (s *Scheduler) retry(j *job, now time.Time, log *slog.Logger, err error) {
	n := j.n
	loc := bot.Zone(n.User.TimeZone)
	wait := orDefault(s.RetryDelay, 5*time.Minute) << min(max(n.Attempt-1, 0), 10)
	next := now.Add(wait)
	if n.Attempt >= orDefault(s.MaxAttempts, 4) || dateOf(next, loc).String() != n.Date || s.quietAt(next, loc) {
		n.Status = bot.NudgeFailed
		log.Warn("daily prompt: send failed; giving up for today", "attempt", n.Attempt, "err", err)
		return
	}
	n.Status = bot.NudgeRetry
	n.Was, n.User.NextDue = n.User.NextDue, next.UTC()
	log.Info("daily prompt: send failed; will retry", "attempt", n.Attempt, "at", next.UTC().Format(time.RFC3339), "err", err)
}

// release gives back a claim whose prompt was never handed to a sender, so
// that the next sweep (after a restart) claims it again.
func (s *Scheduler) release(j *job) {
	n := j.n
	n.Status = bot.NudgeRetry
	n.Attempt--
	n.Was, n.User.NextDue = n.User.NextDue, j.due
}

// safeSend sends, turning a panic in the adapter into an error.
func safeSend(ctx context.Context, to bot.Sender, addr bot.Address, replies []bot.Reply) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sender panicked: %v", r)
		}
	}()
	return to.Send(ctx, addr, replies)
}

// recordEvery is how long an outcome waits for others to share its write.
const recordEvery = 50 * time.Millisecond

// record writes outcomes as they arrive, in batches of up to Batch, each
// written when full, at the end, or recordEvery after its first outcome,
// and counts them. Few larger transactions leave the writer free for
// claims.
func (s *Scheduler) record(ctx context.Context, now time.Time, done <-chan *job, st *Stats) error {
	limit := orDefault(s.Batch, 100)
	var errs []error
	ns := make([]*bot.Nudge, 0, limit)
	timer := time.NewTimer(recordEvery)
	defer timer.Stop()
	for j := range done {
		ns = append(ns[:0], j.n)
		timer.Reset(recordEvery)
	more:
		for len(ns) < limit {
			select {
			case j, ok := <-done:
				if !ok {
					break more
				}
				ns = append(ns, j.n)
			case <-timer.C:
				break more
			}
		}
		for _, n := range ns {
			switch n.Status {
			case bot.NudgeSent:
				st.Sent++
			case bot.NudgeRetry:
				st.Retry++
			case bot.NudgeFailed:
				st.Failed++
			case bot.NudgeUnreachable:
				st.Unreachable++
			case bot.NudgeClaimed:
				st.Unknown++
			}
		}
		if err := s.Store.FinishNudges(ctx, now, ns); err != nil {
			s.log().Error("daily prompts: record outcomes", "err", err, "count", len(ns))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cronLogger hands robfig/cron's log lines to slog.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
