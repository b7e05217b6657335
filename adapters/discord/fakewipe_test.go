package discord_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Messages and their deletion in fakeDiscord, as Discord does it for a bot
// in a DM channel: the bot may delete its own messages at any age (DELETE
// /channels/{id}/messages/{id}, 204), a person's never (403, 50003
// "Cannot execute action on a DM channel"), and a message that is not
// there is 404, 10008 "Unknown Message". Interaction responses are
// messages too: the original response (created by the callback, read and
// edited through the interaction's webhook at @original) and follow-ups.

// fakeMessage is a message in a channel.
type fakeMessage struct {
	id, channel string
	fromBot     bool
	deleted     bool
}

// fakeInteraction is what the fake knows of an interaction it dispatched.
type fakeInteraction struct {
	id, channel string
	pressed     string // the message whose button was pressed
	original    string // the response message, once there is one
	acked       bool
}

// findLocked returns message id if it is there (not deleted).
func (f *fakeDiscord) findLocked(id string) *fakeMessage {
	if m := f.msgs[id]; m != nil && !m.deleted {
		return m
	}
	return nil
}

func (f *fakeDiscord) unknownMessage(w http.ResponseWriter) {
	f.apiError(w, http.StatusNotFound, 10008, "Unknown Message")
}

func (f *fakeDiscord) deleteMessage(w http.ResponseWriter, channel, id string) {
	f.mu.Lock()
	m := f.findLocked(id)
	switch {
	case m == nil || m.channel != channel:
		f.mu.Unlock()
		f.unknownMessage(w)
		return
	case !m.fromBot:
		f.mu.Unlock()
		f.apiError(w, http.StatusForbidden, 50003, "Cannot execute action on a DM channel")
		return
	}
	m.deleted = true
	f.notify()
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// callback acknowledges an interaction: with a new message (types 4 and
// 5), or by updating the message that was pressed (6 and 7), which fails
// if that message was deleted. An interaction is acknowledged once.
func (f *fakeDiscord) callback(w http.ResponseWriter, req *request, token string) {
	typ, _ := req.Body["type"].(float64)
	f.mu.Lock()
	it := f.its[token]
	if it == nil {
		f.mu.Unlock()
		f.apiError(w, http.StatusNotFound, 10062, "Unknown interaction")
		return
	}
	if it.acked {
		f.mu.Unlock()
		f.apiError(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
		return
	}
	switch typ {
	case 4, 5:
		f.nextID++
		id := strconv.Itoa(1000 + f.nextID)
		f.msgs[id] = &fakeMessage{id: id, channel: it.channel, fromBot: true}
		it.original, req.MsgID = id, id
	case 6, 7:
		if m := f.msgs[it.pressed]; m != nil && m.deleted {
			f.mu.Unlock()
			f.unknownMessage(w)
			return
		}
		it.original, req.MsgID = it.pressed, it.pressed
	}
	it.acked = true
	f.notify()
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// followUp posts a follow-up message, which needs the interaction
// acknowledged first.
func (f *fakeDiscord) followUp(w http.ResponseWriter, req *request, token string) {
	f.mu.Lock()
	it := f.its[token]
	if it == nil || !it.acked {
		f.mu.Unlock()
		f.apiError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	channel := it.channel
	f.mu.Unlock()
	if !strings.Contains(req.Query, "wait=true") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f.json(w, f.message(channel, req))
}

// original reads (GET), edits (PATCH) or deletes (DELETE) the response
// message of an interaction.
func (f *fakeDiscord) original(w http.ResponseWriter, req *request, token string) {
	f.mu.Lock()
	it := f.its[token]
	if it == nil || !it.acked {
		f.mu.Unlock()
		f.apiError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return
	}
	id, channel := it.original, it.channel
	if id != "4242" && f.findLocked(id) == nil { // 4242: a pressed message the fake did not send
		f.mu.Unlock()
		f.unknownMessage(w)
		return
	}
	switch req.Method {
	case "DELETE":
		if m := f.msgs[id]; m != nil {
			m.deleted = true
		}
		f.notify()
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	case "PATCH":
		req.MsgID = id
	}
	f.mu.Unlock()
	f.json(w, f.messageJSON(id, channel, req))
}

// visible returns the ids of the messages in a channel that are still
// there, the bot's and the person's, oldest first.
func (f *fakeDiscord) visible(channel string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id, m := range f.msgs {
		if m.channel == channel && !m.deleted {
			ids = append(ids, id)
		}
	}
	sortIDs(ids)
	return ids
}

// fromPerson reports whether message id was written by a person.
func (f *fakeDiscord) fromPerson(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.msgs[id]
	return m != nil && !m.fromBot
}

func sortIDs(ids []string) {
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.ParseUint(a, 10, 64)
		y, _ := strconv.ParseUint(b, 10, 64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
}
