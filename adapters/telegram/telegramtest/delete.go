package telegramtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Deleting messages, as the Bot API does it (deleteMessage and
// deleteMessages), for a bot that is not an administrator anywhere:
//
//   - a message can only be deleted if it was sent less than 48 hours ago
//     (by Options.Now); in a private chat Telegram then answers "message
//     can't be deleted for everyone", elsewhere "message can't be deleted";
//   - in a private chat the bot may delete its own messages and the
//     person's; in a group only its own;
//   - an unknown or already deleted message is "message to delete not
//     found";
//   - deleteMessages takes 1 to 100 ids, skips the ones it cannot find, and
//     deletes nothing when one of the others cannot be deleted (the Bot API
//     server passes the whole list to one deleteMessages call of TDLib,
//     which checks every message first).

// DeleteWindow is how old a message may be and still be deleted.
const DeleteWindow = 48 * time.Hour

// received is a message someone wrote in a chat.
type received struct {
	id      int
	date    time.Time
	deleted bool
}

func (s *Server) now() time.Time { return s.opts.Now() }

// findLocked returns the deletable state of message id in chat: its date,
// whether the bot sent it, and a function that deletes it.
func (s *Server) findLocked(chat int64, id int) (date time.Time, fromBot bool, del func(), ok bool) {
	for _, m := range s.messages[chat] {
		if m.ID == id && !m.Deleted {
			return m.Date, true, func() { m.Deleted = true; m.Keyboard = nil }, true
		}
	}
	for _, r := range s.received[chat] {
		if r.id == id && !r.deleted {
			return r.date, false, func() { r.deleted = true }, true
		}
	}
	return time.Time{}, false, nil, false
}

// deletableLocked says why message id in chat c cannot be deleted ("" if
// it can), and whether it exists.
func (s *Server) deletableLocked(c Chat, id int) (del func(), desc string, found bool) {
	date, fromBot, del, ok := s.findLocked(c.ID, id)
	switch {
	case !ok:
		return nil, "", false
	case s.now().Sub(date) >= DeleteWindow && c.Type == "private":
		return nil, "message can't be deleted for everyone", true
	case s.now().Sub(date) >= DeleteWindow, !fromBot && c.Type != "private":
		return nil, "message can't be deleted", true
	}
	return del, "", true
}

// deleteChat checks the chat_id of a delete.
func (s *Server) deleteChat(w http.ResponseWriter, req request) (Chat, bool) {
	id, err := strconv.ParseInt(req.params["chat_id"], 10, 64)
	if req.params["chat_id"] == "" {
		badRequest(w, "chat_id is empty")
		return Chat{}, false
	}
	s.mu.Lock()
	c, known := s.chats[id]
	s.mu.Unlock()
	if err != nil || !known {
		badRequest(w, "chat not found")
		return Chat{}, false
	}
	return c, true
}

func (s *Server) deleteMessage(w http.ResponseWriter, req request) {
	c, known := s.deleteChat(w, req)
	if !known {
		return
	}
	id, err := strconv.Atoi(req.params["message_id"])
	if err != nil || id <= 0 {
		badRequest(w, "message identifier is not specified")
		return
	}
	s.mu.Lock()
	del, desc, found := s.deletableLocked(c, id)
	switch {
	case !found:
		s.mu.Unlock()
		badRequest(w, "message to delete not found")
		return
	case desc != "":
		s.mu.Unlock()
		badRequest(w, desc)
		return
	}
	del()
	s.notifyLocked(c.ID)
	s.mu.Unlock()
	ok(w, true)
}

func (s *Server) deleteMessages(w http.ResponseWriter, req request) {
	c, known := s.deleteChat(w, req)
	if !known {
		return
	}
	var ids []int
	if err := json.Unmarshal([]byte(req.params["message_ids"]), &ids); err != nil {
		badRequest(w, "can't parse message identifiers JSON object")
		return
	}
	switch {
	case len(ids) == 0:
		badRequest(w, "message identifiers are not specified")
		return
	case len(ids) > 100:
		badRequest(w, "too many message identifiers specified") // approximate wording
		return
	}
	s.mu.Lock()
	var dels []func()
	for _, id := range ids {
		del, desc, found := s.deletableLocked(c, id)
		if !found {
			continue // skipped, as documented
		}
		if desc != "" {
			s.mu.Unlock()
			badRequest(w, desc)
			return
		}
		dels = append(dels, del)
	}
	for _, del := range dels {
		del()
	}
	s.notifyLocked(c.ID)
	s.mu.Unlock()
	ok(w, true)
}

// DeleteForEveryone deletes message id in chat as a person does it in the
// app, for both sides, whatever its age.
func (s *Server) DeleteForEveryone(chat int64, id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, del, ok := s.findLocked(chat, id); ok {
		del()
		s.notifyLocked(chat)
	}
}

// Received returns the ids of the messages people wrote in chat that are
// still there (not deleted), oldest first.
func (s *Server) Received(chat int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int
	for _, r := range s.received[chat] {
		if !r.deleted {
			ids = append(ids, r.id)
		}
	}
	return ids
}

// Visible returns the ids of every message in chat, the bot's and the
// people's, that is still there, in the order they were written.
func (s *Server) Visible(chat int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int
	for _, m := range s.messages[chat] {
		if !m.Deleted {
			ids = append(ids, m.ID)
		}
	}
	for _, r := range s.received[chat] {
		if !r.deleted {
			ids = append(ids, r.id)
		}
	}
	slices.Sort(ids) // ids grow in the order messages are written
	return ids
}
