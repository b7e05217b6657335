package telegramtest

import (
	"slices"
	"time"
)

// outage is a period in which calls fail.
type outage struct {
	until   time.Time
	f       Failure
	methods []string // nil: every method
}

// Outage makes every call of the given methods (none given: every method)
// fail with f for d from now, as a Bot API outage does: a 5xx answer, a
// proxy's HTML page (f.NotJSON) or a dropped connection (f.Drop). A long
// poll open when it begins fails too. A later Outage replaces it; d <= 0
// ends it. Failures queued with Fail wait until it is over.
func (s *Server) Outage(d time.Duration, f Failure, methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = outage{until: time.Now().Add(d), f: f, methods: methods}
	s.notifyLocked(0)
}

// Down reports whether an outage is on now.
func (s *Server) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, down := s.downLocked("", time.Now())
	return down
}

// downLocked returns the failure for a call of method at t during an
// outage ("" matches any method).
func (s *Server) downLocked(method string, t time.Time) (Failure, bool) {
	o := s.outage
	if !t.Before(o.until) || (method != "" && o.methods != nil && !slices.Contains(o.methods, method)) {
		return Failure{}, false
	}
	return o.f, true
}
