package telegramtest

// WaitCount waits until the bot has sent at least n messages to chat, and
// reports true; or false if stop is closed first. Unlike WaitMessages it
// never fails the test, so that load drivers in their own goroutines can
// use it.
func (s *Server) WaitCount(chat int64, n int, stop <-chan struct{}) bool {
	for {
		s.mu.Lock()
		if len(s.messages[chat]) >= n {
			s.mu.Unlock()
			return true
		}
		ch, ok := s.chatChanged[chat]
		if !ok {
			ch = make(chan struct{})
			s.chatChanged[chat] = ch
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-stop:
			return false
		}
	}
}
