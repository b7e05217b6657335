// Package telegramtest is a fake Telegram Bot API server for tests, on
// loopback (httptest). It speaks the wire protocol the way Telegram does,
// so that the real go-telegram/bot client can be tested against it:
//
//   - requests as multipart/form-data (what go-telegram/bot sends),
//     application/x-www-form-urlencoded, JSON or query strings, with
//     structured fields (reply_markup, commands...) as JSON text;
//   - answers in the {"ok":...} envelope, errors with error_code,
//     description and parameters.retry_after, HTTP status = error_code;
//   - getUpdates with offsets (an update stays pending until a later offset
//     confirms it, so a crashed poller gets it again) and real long polling,
//     409 while a webhook is set or when a second poller takes over;
//   - webhooks: after setWebhook, pending updates are POSTed to the URL with
//     the X-Telegram-Bot-Api-Secret-Token header, and re-sent until the
//     receiver answers 2xx;
//   - Telegram's validation, with its descriptions: HTML is parsed like
//     Telegram parses it ("can't parse entities: ..."), lengths are counted
//     in UTF-16 units after parsing (4,096 for a message, 1,024 for a
//     caption), callback data must be 1 to 64 bytes (BUTTON_DATA_INVALID),
//     unknown chats get "chat not found" and people who blocked the bot 403;
//   - deleteMessage and deleteMessages with Telegram's rules and errors (48
//     hours, counted on an injectable clock; see delete.go), and each
//     message's protect_content;
//   - optionally, a global limit of N messages in any one second (429s).
//
// Where Telegram's exact wording is not documented (e.g. a few setMyCommands
// errors) the description is a close approximation, marked as such.
package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Options configure a Server.
type Options struct {
	Token    string // default "123456789:AAHfakeTokenForTestsOnly-0123456789"
	Username string // the bot's username; default "TrustBot_bot"
	// RateLimit, if above 0, answers 429 to a message (sendMessage,
	// sendDocument) that would make more than RateLimit messages accepted
	// in any one second.
	RateLimit int
	// WebhookRetry is the wait before re-sending an update the webhook did
	// not accept; default 50 ms (Telegram waits longer).
	WebhookRetry time.Duration
	// Now is the fake's clock: the date of every message, and what
	// deleteMessage's 48-hour rule counts from (see delete.go). Default
	// time.Now.
	Now func() time.Time
}

// DefaultToken is a token of the right shape, for tests.
const DefaultToken = "123456789:AAHfakeTokenForTestsOnly-0123456789"

// User is a Telegram user who writes to the bot.
type User struct {
	ID        int64
	FirstName string
	Username  string
}

// Chat is a chat the bot is in.
type Chat struct {
	ID    int64
	Type  string // private, group, supergroup
	Title string
}

// Private returns u's private chat with the bot (its id is u's id).
func Private(u User) Chat { return Chat{ID: u.ID, Type: "private"} }

// Button is one inline keyboard button as sent by the bot.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// Document is a file the bot sent.
type Document struct {
	Name string
	Data []byte
}

// Message is a message the bot sent, as the fake accepted it.
type Message struct {
	ID       int
	ChatID   int64
	Method   string     // sendMessage or sendDocument
	HTML     string     // the text (or caption) as sent
	Text     string     // what people see: parsed and trimmed
	Entities []Entity   // of Text
	Keyboard [][]Button // the current inline keyboard; nil when none (or removed)
	Document *Document
	At       time.Time // when its request arrived
	// Protected: sent with protect_content (no forwarding or saving).
	Protected bool
	Date      time.Time // its date, by Options.Now
	Deleted   bool      // deleted with deleteMessage(s)
}

// Styled returns the visible substrings of m.Text with entity type typ.
func (m Message) Styled(typ string) []string {
	u := utf16Index(m.Text)
	var out []string
	for _, e := range m.Entities {
		if e.Type == typ {
			out = append(out, m.Text[u[e.Offset]:u[e.Offset+e.Length]])
		}
	}
	return out
}

// utf16Index maps UTF-16 offsets in s to byte offsets.
func utf16Index(s string) map[int]int {
	idx := map[int]int{}
	u := 0
	for i, r := range s {
		idx[u] = i
		u += runeUnits(r)
	}
	idx[u] = len(s)
	return idx
}

// Buttons returns the labels of m's keyboard, row by row.
func (m Message) Buttons() []string {
	var out []string
	for _, row := range m.Keyboard {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// Failure is a canned answer for the next call of a method.
type Failure struct {
	Code        int    // HTTP status and error_code, e.g. 429, 500, 502
	Description string // Telegram's description
	RetryAfter  int    // parameters.retry_after, for 429
	// NotJSON answers with an HTML page instead of the JSON envelope, as a
	// proxy in front of the Bot API does on 502.
	NotJSON bool
	// Drop closes the connection without an answer.
	Drop bool
	// MigrateTo is parameters.migrate_to_chat_id: the group became this
	// supergroup.
	MigrateTo int64
}

// TooManyRequests is Telegram's 429.
func TooManyRequests(retryAfter int) Failure {
	return Failure{Code: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), RetryAfter: retryAfter}
}

// Server is a fake Bot API server.
type Server struct {
	URL   string // pass to tgbot.WithServerURL, or as telegram.api_url
	Token string
	BotID int64

	opts Options
	ts   *httptest.Server
	tb   testing.TB

	mu          sync.Mutex
	changed     chan struct{}           // closed and replaced on every change
	chatChanged map[int64]chan struct{} // the same, per chat
	closed      bool

	nextUpdate int64
	pending    []update         // not yet confirmed (polling) or accepted (webhook)
	history    map[int64]update // every update, for Replay
	pushedAt   map[int64]time.Time
	pollGen    int
	webhook    webhookState
	chats      map[int64]Chat
	blocked    map[int64]bool
	nextMsg    int
	messages   map[int64][]*Message
	all        []*Message
	callbacks  map[string]*callback
	nextQuery  int
	commands   []BotCommand
	calls      map[string]int
	callLog    []string
	failures   map[string][]Failure
	window     []time.Time // accepted messages in the last second
	tooMany    int         // 429s from RateLimit
	webhookLog []int       // HTTP statuses of webhook deliveries
	outage     outage      // see outage.go

	received map[int64][]*received // people's messages, per chat; see delete.go
}

type update struct {
	id   int64
	body json.RawMessage // the update object, with update_id
}

type webhookState struct {
	url, secret string
	gen         int
}

type callback struct {
	answered bool
	text     string
}

// BotCommand is a command registered with setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// NewServer starts a fake Bot API server; it is closed when the test ends.
func NewServer(tb testing.TB, o Options) *Server {
	tb.Helper()
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.Username == "" {
		o.Username = "TrustBot_bot"
	}
	if o.WebhookRetry <= 0 {
		o.WebhookRetry = 50 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	id, _ := strconv.ParseInt(strings.SplitN(o.Token, ":", 2)[0], 10, 64)
	s := &Server{
		Token: o.Token, BotID: id, opts: o, tb: tb,
		changed: make(chan struct{}), chatChanged: map[int64]chan struct{}{},
		history: map[int64]update{}, pushedAt: map[int64]time.Time{},
		chats: map[int64]Chat{}, blocked: map[int64]bool{}, messages: map[int64][]*Message{},
		callbacks: map[string]*callback{}, calls: map[string]int{}, failures: map[string][]Failure{},
		nextUpdate: 1000, nextMsg: 1,
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and its webhook deliveries.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.webhook.gen++
	s.notifyLocked(0)
	s.mu.Unlock()
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// notifyLocked wakes everyone waiting for a change (and those waiting on
// chat, if not 0).
func (s *Server) notifyLocked(chat int64) {
	close(s.changed)
	s.changed = make(chan struct{})
	if ch, ok := s.chatChanged[chat]; ok && chat != 0 {
		close(ch)
		delete(s.chatChanged, chat)
	}
}

// AddChat makes a chat known, so that the bot may send to it.
func (s *Server) AddChat(c Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[c.ID] = c
}

// Block makes user u block the bot: sends to their chat get 403.
func (s *Server) Block(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[u.ID] = true
}

// Fail queues canned answers for the next calls of method.
func (s *Server) Fail(method string, f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], f...)
}

// Push queues an update (a JSON object without update_id) and returns its
// update_id. Chats and callback queries in it become known.
func (s *Server) Push(u map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdate++
	id := s.nextUpdate
	u["update_id"] = id
	for _, k := range []string{"message", "edited_message", "my_chat_member"} {
		if m, ok := u[k].(map[string]any); ok {
			if c, ok := m["chat"].(map[string]any); ok {
				s.learnChat(c)
			}
		}
	}
	if q, ok := u["callback_query"].(map[string]any); ok {
		s.callbacks[q["id"].(string)] = &callback{}
	}
	body, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	up := update{id: id, body: body}
	s.history[id] = up
	s.pending = append(s.pending, up)
	s.pushedAt[id] = time.Now()
	s.notifyLocked(0)
	return id
}

// learnChat makes the chat of a pushed update known.
func (s *Server) learnChat(c map[string]any) {
	var id int64
	switch v := c["id"].(type) {
	case int64:
		id = v
	case int:
		id = int64(v)
	case float64:
		id = int64(v)
	default:
		return
	}
	if _, known := s.chats[id]; !known {
		typ, _ := c["type"].(string)
		title, _ := c["title"].(string)
		s.chats[id] = Chat{ID: id, Type: typ, Title: title}
	}
}

// Replay queues update id again, as Telegram does when a webhook did not
// answer 2xx or a poller did not confirm it.
func (s *Server) Replay(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.history[id]
	if !ok {
		s.tb.Errorf("telegramtest: Replay(%d): no such update", id)
		return
	}
	s.pending = append(s.pending, up)
	sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].id < s.pending[j].id })
	s.notifyLocked(0)
}

// PushedAt returns when update id was pushed.
func (s *Server) PushedAt(id int64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushedAt[id]
}

func userJSON(u User) map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName, "language_code": "en"}
	if u.Username != "" {
		m["username"] = u.Username
	}
	return m
}

func chatJSON(c Chat, u User) map[string]any {
	m := map[string]any{"id": c.ID, "type": c.Type}
	if c.Type == "private" {
		m["first_name"] = u.FirstName
	} else {
		m["title"] = c.Title
	}
	return m
}

// SendText has u write text in chat c and returns the update_id. A leading
// /command gets its bot_command entity, as Telegram adds it.
func (s *Server) SendText(u User, c Chat, text string) int64 {
	s.AddChat(c)
	msg := map[string]any{
		"message_id": s.newMessageID(c.ID), "from": userJSON(u), "chat": chatJSON(c, u),
		"date": s.now().Unix(), "text": text,
	}
	if strings.HasPrefix(text, "/") {
		end := strings.IndexAny(text, " \n")
		if end < 0 {
			end = len(text)
		}
		msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": Units(text[:end])}}
	}
	return s.Push(map[string]any{"message": msg})
}

// Message pushes a message update with extra fields (a photo, a sticker...)
// instead of text.
func (s *Server) Message(u User, c Chat, fields map[string]any) int64 {
	s.AddChat(c)
	msg := map[string]any{"message_id": s.newMessageID(c.ID), "from": userJSON(u), "chat": chatJSON(c, u), "date": s.now().Unix()}
	for k, v := range fields {
		msg[k] = v
	}
	return s.Push(map[string]any{"message": msg})
}

// Edit pushes an edited_message update: u changed one of their messages.
func (s *Server) Edit(u User, c Chat, text string) int64 {
	s.AddChat(c)
	now := s.now().Unix()
	return s.Push(map[string]any{"edited_message": map[string]any{
		"message_id": s.newMessageID(c.ID), "from": userJSON(u), "chat": chatJSON(c, u),
		"date": now - 60, "edit_date": now, "text": text,
	}})
}

// BlockUpdate makes u block the bot and pushes the my_chat_member update
// Telegram sends about it.
func (s *Server) BlockUpdate(u User) int64 {
	s.Block(u)
	c := Private(u)
	botUser := map[string]any{"id": s.BotID, "is_bot": true, "first_name": "trustbot", "username": s.opts.Username}
	return s.Push(map[string]any{"my_chat_member": map[string]any{
		"chat": chatJSON(c, u), "from": userJSON(u), "date": time.Now().Unix(),
		"old_chat_member": map[string]any{"status": "member", "user": botUser},
		"new_chat_member": map[string]any{"status": "kicked", "user": botUser, "until_date": 0},
	}})
}

// Press has u press the button labelled label under message m (as it is
// now: a removed keyboard cannot be pressed). It returns the update_id and
// the callback query id.
func (s *Server) Press(u User, m Message, label string) (int64, string) {
	s.tb.Helper()
	cur, ok := s.messageByID(m.ChatID, m.ID)
	if !ok {
		s.tb.Fatalf("telegramtest: Press %q: no message %d in chat %d", label, m.ID, m.ChatID)
	}
	if cur.Deleted {
		s.tb.Fatalf("telegramtest: Press %q: message %d in chat %d was deleted", label, m.ID, m.ChatID)
	}
	for _, row := range cur.Keyboard {
		for _, b := range row {
			if b.Text == label && b.CallbackData != "" {
				return s.PressData(u, cur, b.CallbackData)
			}
		}
	}
	s.tb.Fatalf("telegramtest: Press %q: message %d has no such button now (buttons: %q)", label, m.ID, cur.Buttons())
	return 0, ""
}

// PressData pushes a callback query with arbitrary data for message m (an
// old or forged button).
func (s *Server) PressData(u User, m Message, data string) (int64, string) {
	s.mu.Lock()
	s.nextQuery++
	qid := fmt.Sprintf("%d%06d", s.BotID, s.nextQuery)
	c := s.chats[m.ChatID]
	s.mu.Unlock()
	// Telegram sends the message with its current keyboard.
	msg := map[string]any{"message_id": m.ID, "from": map[string]any{"id": s.BotID, "is_bot": true, "first_name": "trustbot", "username": s.opts.Username},
		"chat": chatJSON(c, u), "date": m.At.Unix(), "text": m.Text}
	if cur, ok := s.messageByID(m.ChatID, m.ID); ok && cur.Keyboard != nil {
		msg["reply_markup"] = map[string]any{"inline_keyboard": cur.Keyboard}
	}
	id := s.Push(map[string]any{"callback_query": map[string]any{
		"id": qid, "from": userJSON(u), "message": msg, "chat_instance": "-4242", "data": data,
	}})
	return id, qid
}

// newMessageID numbers a message someone writes in chat, and keeps it
// (see delete.go).
func (s *Server) newMessageID(chat int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMsg++
	if s.received == nil {
		s.received = map[int64][]*received{}
	}
	s.received[chat] = append(s.received[chat], &received{id: s.nextMsg, date: s.now()})
	return s.nextMsg
}

func (s *Server) messageByID(chat int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages[chat] {
		if m.ID == id {
			return *m, true
		}
	}
	return Message{}, false
}

// Messages returns the messages the bot sent to chat, oldest first.
func (s *Server) Messages(chat int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages[chat]))
	for i, m := range s.messages[chat] {
		out[i] = *m
	}
	return out
}

// AllMessages returns every message the bot sent, in the order accepted.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.all))
	for i, m := range s.all {
		out[i] = *m
	}
	return out
}

// WaitMessages waits until the bot has sent at least n messages to chat
// and returns them all; it fails the test after timeout.
func (s *Server) WaitMessages(tb testing.TB, chat int64, n int, timeout time.Duration) []Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if s.WaitCount(chat, n, ctx.Done()) {
		return s.Messages(chat)
	}
	got := s.Messages(chat)
	var texts []string
	for _, m := range got {
		texts = append(texts, firstLine(m.Text))
	}
	tb.Fatalf("telegramtest: waited %s for %d messages to chat %d, got %d: %q", timeout, n, chat, len(got), texts)
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + "…"
	}
	return s
}

// Wait waits until cond (called with no lock held) is true, re-checking on
// every change of the server and every 5 ms (for conditions outside it, like
// a database row); it fails the test after timeout, saying what it waited
// for.
func (s *Server) Wait(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			tb.Fatalf("telegramtest: waited %s for %s", timeout, what)
		}
	}
}

// Calls returns how many times method was called (including failures).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// CallLog returns the methods called, in order.
func (s *Server) CallLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.callLog...)
}

// Answered reports whether callback query id was answered, and the text.
func (s *Server) Answered(id string) (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.callbacks[id]
	if c == nil {
		return false, ""
	}
	return c.answered, c.text
}

// Commands returns the command menu last set with setMyCommands.
func (s *Server) Commands() []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands...)
}

// TooMany returns how many 429s the RateLimit caused.
func (s *Server) TooMany() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// Webhook returns the webhook URL and secret set with setWebhook.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook.url, s.webhook.secret
}

// WebhookStatuses returns the HTTP status of every webhook delivery (0 for
// a connection error), in order.
func (s *Server) WebhookStatuses() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.webhookLog...)
}

// Pending returns how many updates are not yet confirmed or accepted.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// ---- the wire ----

type envelope struct {
	OK          bool            `json:"ok"`
	Result      any             `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *responseParams `json:"parameters,omitempty"`
}

type responseParams struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v envelope) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, envelope{OK: true, Result: result})
}

func fail(w http.ResponseWriter, code int, desc string) {
	writeJSON(w, code, envelope{ErrorCode: code, Description: desc})
}

func badRequest(w http.ResponseWriter, desc string) { fail(w, 400, "Bad Request: "+desc) }

// request is a decoded Bot API call.
type request struct {
	params map[string]string
	files  map[string]Document
}

// decode reads the parameters in any encoding the Bot API accepts.
func decode(r *http.Request) (request, error) {
	req := request{params: map[string]string{}, files: map[string]Document{}}
	for k, v := range r.URL.Query() {
		req.params[k] = v[0]
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return req, err
	}
	if len(body) == 0 {
		return req, nil // go-telegram/bot sends an empty multipart body when a method has no parameters
	}
	mt, mp, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return req, fmt.Errorf("bad Content-Type: %v", err)
	}
	switch mt {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return req, fmt.Errorf("multipart: %v", err)
			}
			data, err := io.ReadAll(p)
			if err != nil {
				return req, err
			}
			if p.FileName() != "" {
				req.files[p.FormName()] = Document{Name: p.FileName(), Data: data}
			} else {
				req.params[p.FormName()] = string(data)
			}
		}
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return req, err
		}
		for k, vs := range v {
			req.params[k] = vs[0]
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return req, err
		}
		for k, raw := range m {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				req.params[k] = s
			} else {
				req.params[k] = string(raw)
			}
		}
	default:
		return req, fmt.Errorf("unsupported Content-Type %q", mt)
	}
	return req, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now() // rate limits count requests as they arrive
	rest, found := strings.CutPrefix(r.URL.Path, "/bot")
	tok, method, found2 := strings.Cut(rest, "/")
	if !found || !found2 {
		fail(w, 404, "Not Found")
		return
	}
	if tok != s.Token {
		fail(w, 401, "Unauthorized")
		return
	}
	req, err := decode(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.callLog = append(s.callLog, method)
	var canned *Failure
	if f, down := s.downLocked(method, arrived); down {
		canned = &f
	} else if q := s.failures[method]; len(q) > 0 {
		canned = &q[0]
		s.failures[method] = q[1:]
	}
	s.notifyLocked(0)
	s.mu.Unlock()
	if canned != nil {
		s.serveFailure(w, *canned)
		return
	}
	switch strings.ToLower(method) {
	case "getme":
		ok(w, s.me())
	case "getupdates":
		s.getUpdates(w, r, req)
	case "setwebhook":
		s.setWebhook(w, req)
	case "deletewebhook":
		s.setWebhook(w, request{params: map[string]string{"drop_pending_updates": req.params["drop_pending_updates"]}})
	case "setmycommands":
		s.setMyCommands(w, req)
	case "sendmessage":
		s.send(w, "sendMessage", req, arrived)
	case "senddocument":
		s.send(w, "sendDocument", req, arrived)
	case "answercallbackquery":
		s.answerCallbackQuery(w, req)
	case "editmessagereplymarkup":
		s.editMessageReplyMarkup(w, req)
	case "deletemessage":
		s.deleteMessage(w, req)
	case "deletemessages":
		s.deleteMessages(w, req)
	default:
		fail(w, 404, "Not Found")
	}
}

func (s *Server) serveFailure(w http.ResponseWriter, f Failure) {
	switch {
	case f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case f.NotJSON:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Code)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>\n",
			f.Code, http.StatusText(f.Code), f.Code, http.StatusText(f.Code))
	default:
		e := envelope{ErrorCode: f.Code, Description: f.Description}
		if f.RetryAfter > 0 || f.MigrateTo != 0 {
			e.Parameters = &responseParams{RetryAfter: f.RetryAfter, MigrateToChatID: f.MigrateTo}
		}
		writeJSON(w, f.Code, e)
	}
}

func (s *Server) me() map[string]any {
	return map[string]any{"id": s.BotID, "is_bot": true, "first_name": "trustbot", "username": s.opts.Username,
		"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false}
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, req request) {
	offset, _ := strconv.ParseInt(req.params["offset"], 10, 64)
	limit, _ := strconv.Atoi(req.params["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(req.params["timeout"])
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()

	s.mu.Lock()
	if s.webhook.url != "" {
		s.mu.Unlock()
		fail(w, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
		return
	}
	s.pollGen++
	gen := s.pollGen
	if offset > 0 { // confirms every update before offset
		kept := s.pending[:0]
		for _, u := range s.pending {
			if u.id >= offset {
				kept = append(kept, u)
			}
		}
		s.pending = kept
	}
	s.notifyLocked(0) // wakes an older poll, which then gives way
	s.mu.Unlock()

	for {
		s.mu.Lock()
		if gen != s.pollGen {
			s.mu.Unlock()
			fail(w, 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
			return
		}
		if f, down := s.downLocked("getUpdates", time.Now()); down { // a poll open when an outage begins fails too
			s.mu.Unlock()
			s.serveFailure(w, f)
			return
		}
		var out []json.RawMessage
		for _, u := range s.pending {
			if u.id >= offset && len(out) < limit {
				out = append(out, u.body)
			}
		}
		ch := s.changed
		closed := s.closed
		s.mu.Unlock()
		if len(out) > 0 || closed {
			ok(w, out)
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			ok(w, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(w http.ResponseWriter, req request) {
	u := req.params["url"]
	secret := req.params["secret_token"]
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" || (pu.Scheme != "https" && pu.Scheme != "http") {
			// Like a local Bot API server, the fake also accepts http:// URLs.
			badRequest(w, "bad webhook: Failed to resolve host: Name or service not known")
			return
		}
		if secret != "" && !secretRE.MatchString(secret) {
			badRequest(w, "secret token contains unallowed characters") // approximate wording
			return
		}
	}
	s.mu.Lock()
	s.webhook.gen++
	s.webhook.url, s.webhook.secret = u, secret
	if req.params["drop_pending_updates"] == "true" {
		s.pending = nil
	}
	gen := s.webhook.gen
	s.notifyLocked(0)
	s.mu.Unlock()
	if u != "" {
		go s.deliver(gen)
	}
	ok(w, true)
}

// deliver POSTs pending updates to the webhook, one at a time, until the
// webhook changes or the server closes.
func (s *Server) deliver(gen int) {
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		s.mu.Lock()
		if s.webhook.gen != gen {
			s.mu.Unlock()
			return
		}
		if len(s.pending) == 0 {
			ch := s.changed
			s.mu.Unlock()
			<-ch
			continue
		}
		up := s.pending[0]
		target, secret := s.webhook.url, s.webhook.secret
		s.mu.Unlock()

		status := 0
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(up.body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
		}
		s.mu.Lock()
		s.webhookLog = append(s.webhookLog, status)
		if status >= 200 && status < 300 && len(s.pending) > 0 && s.pending[0].id == up.id {
			s.pending = s.pending[1:]
		}
		s.notifyLocked(0)
		s.mu.Unlock()
		if status < 200 || status >= 300 {
			time.Sleep(s.opts.WebhookRetry)
		}
	}
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setMyCommands(w http.ResponseWriter, req request) {
	var cmds []BotCommand
	if err := json.Unmarshal([]byte(req.params["commands"]), &cmds); err != nil {
		badRequest(w, "can't parse commands JSON object")
		return
	}
	if len(cmds) > 100 {
		badRequest(w, "too many commands") // approximate wording
		return
	}
	for _, c := range cmds {
		if !commandRE.MatchString(c.Command) {
			badRequest(w, "BOT_COMMAND_INVALID")
			return
		}
		if n := Units(strings.TrimSpace(c.Description)); n < 1 || n > 256 {
			badRequest(w, "BOT_COMMAND_DESCRIPTION_INVALID") // approximate wording
			return
		}
	}
	s.mu.Lock()
	s.commands = cmds
	s.notifyLocked(0)
	s.mu.Unlock()
	ok(w, true)
}

// chatFor checks the chat_id of a send and returns the chat.
func (s *Server) chatFor(w http.ResponseWriter, req request) (Chat, bool) {
	raw := req.params["chat_id"]
	if raw == "" {
		badRequest(w, "chat_id is empty")
		return Chat{}, false
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	s.mu.Lock()
	c, known := s.chats[id]
	blocked := s.blocked[id]
	s.mu.Unlock()
	switch {
	case err != nil || !known:
		badRequest(w, "chat not found")
		return Chat{}, false
	case blocked:
		fail(w, 403, "Forbidden: bot was blocked by the user")
		return Chat{}, false
	}
	return c, true
}

// parseText parses a text or caption in its parse mode and checks it.
func parseText(raw, mode string) (string, []Entity, error) {
	var text string
	var ents []Entity
	switch strings.ToLower(mode) {
	case "html":
		t, e, err := ParseHTML(raw)
		if err != nil {
			return "", nil, fmt.Errorf("can't parse entities: %v", err)
		}
		text, ents = t, e
	case "":
		if !utf8.ValidString(raw) {
			return "", nil, fmt.Errorf("text must be encoded in UTF-8")
		}
		text = raw
	default:
		return "", nil, fmt.Errorf("unsupported parse_mode (the fake only speaks HTML)")
	}
	text, ents = trim(text, ents)
	return text, ents, nil
}

func (s *Server) send(w http.ResponseWriter, method string, req request, now time.Time) {
	c, found := s.chatFor(w, req)
	if !found {
		return
	}
	m := &Message{ChatID: c.ID, Method: method}
	var err error
	if method == "sendMessage" {
		raw, present := req.params["text"]
		m.HTML = raw
		if m.Text, m.Entities, err = parseText(raw, req.params["parse_mode"]); err != nil {
			badRequest(w, err.Error())
			return
		}
		switch {
		case !present || m.Text == "":
			badRequest(w, "message text is empty")
			return
		case Units(m.Text) > 4096:
			badRequest(w, "message is too long")
			return
		}
	} else {
		doc, present := req.files["document"]
		switch {
		case !present:
			badRequest(w, "there is no document in the request")
			return
		case len(doc.Data) == 0:
			badRequest(w, "file must be non-empty")
			return
		}
		m.Document = &doc
		m.HTML = req.params["caption"]
		if m.Text, m.Entities, err = parseText(m.HTML, req.params["parse_mode"]); err != nil {
			badRequest(w, err.Error())
			return
		}
		if Units(m.Text) > 1024 {
			badRequest(w, "message caption is too long")
			return
		}
	}
	if lp := req.params["link_preview_options"]; lp != "" && !json.Valid([]byte(lp)) {
		badRequest(w, "can't parse link preview options JSON object")
		return
	}
	if rm := req.params["reply_markup"]; rm != "" {
		kb, desc := parseKeyboard(rm)
		if desc != "" {
			badRequest(w, desc)
			return
		}
		m.Keyboard = kb
	}

	s.mu.Lock()
	if s.opts.RateLimit > 0 {
		kept := s.window[:0]
		for _, t := range s.window {
			if now.Sub(t) < time.Second {
				kept = append(kept, t)
			}
		}
		s.window = kept
		if len(s.window) >= s.opts.RateLimit {
			s.tooMany++
			s.mu.Unlock()
			writeJSON(w, 429, envelope{ErrorCode: 429, Description: "Too Many Requests: retry after 1", Parameters: &responseParams{RetryAfter: 1}})
			return
		}
		s.window = append(s.window, now)
	}
	s.nextMsg++
	m.ID = s.nextMsg
	m.At = now
	m.Date = s.now()
	m.Protected = req.params["protect_content"] == "true"
	s.messages[c.ID] = append(s.messages[c.ID], m)
	s.all = append(s.all, m)
	s.notifyLocked(c.ID)
	result := s.messageJSON(c, *m)
	s.mu.Unlock()
	ok(w, result)
}

// parseKeyboard checks an InlineKeyboardMarkup as Telegram does; desc is
// the error description, "" when valid.
func parseKeyboard(raw string) ([][]Button, string) {
	var markup struct {
		InlineKeyboard [][]map[string]json.RawMessage `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &markup); err != nil {
		return nil, "can't parse reply keyboard markup JSON object"
	}
	var kb [][]Button
	for _, row := range markup.InlineKeyboard {
		var r []Button
		for _, fields := range row {
			var b Button
			if t, ok := fields["text"]; !ok || json.Unmarshal(t, &b.Text) != nil || strings.TrimSpace(b.Text) == "" {
				return nil, "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
			}
			// Exactly one optional field gives the button its kind.
			kinds := 0
			for k := range fields {
				if k != "text" && k != "icon_custom_emoji_id" && k != "style" {
					kinds++
				}
			}
			if kinds != 1 {
				return nil, "BUTTON_TYPE_INVALID"
			}
			if d, ok := fields["callback_data"]; ok {
				if json.Unmarshal(d, &b.CallbackData) != nil || len(b.CallbackData) < 1 || len(b.CallbackData) > 64 {
					return nil, "BUTTON_DATA_INVALID"
				}
			}
			if u, ok := fields["url"]; ok {
				pu, err := url.Parse(strings.Trim(string(u), `"`))
				if err != nil || (pu.Scheme != "https" && pu.Scheme != "http" && pu.Scheme != "tg") || (pu.Host == "" && pu.Scheme != "tg") {
					return nil, "BUTTON_URL_INVALID"
				}
				b.URL = pu.String()
			}
			if _, ok := fields["copy_text"]; ok {
				var ct struct{ Text string }
				if json.Unmarshal(fields["copy_text"], &ct) != nil || ct.Text == "" {
					return nil, "BUTTON_COPY_TEXT_INVALID"
				}
			}
			r = append(r, b)
		}
		if len(r) > 0 {
			kb = append(kb, r)
		}
	}
	return kb, ""
}

func (s *Server) messageJSON(c Chat, m Message) map[string]any {
	out := map[string]any{
		"message_id": m.ID, "date": m.At.Unix(),
		"from": map[string]any{"id": s.BotID, "is_bot": true, "first_name": "trustbot", "username": s.opts.Username},
		"chat": map[string]any{"id": c.ID, "type": c.Type},
	}
	text, entities := "text", "entities"
	if m.Document != nil {
		text, entities = "caption", "caption_entities"
		out["document"] = map[string]any{"file_id": fmt.Sprintf("doc%d", m.ID), "file_unique_id": fmt.Sprintf("u%d", m.ID), "file_name": m.Document.Name, "file_size": len(m.Document.Data)}
	}
	if m.Text != "" {
		out[text] = m.Text
	}
	if len(m.Entities) > 0 {
		out[entities] = m.Entities
	}
	if m.Keyboard != nil {
		out["reply_markup"] = map[string]any{"inline_keyboard": m.Keyboard}
	}
	return out
}

func (s *Server) answerCallbackQuery(w http.ResponseWriter, req request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.callbacks[req.params["callback_query_id"]]
	if c == nil || c.answered {
		badRequest(w, "query is too old and response timeout expired or query ID is invalid")
		return
	}
	if Units(req.params["text"]) > 200 {
		badRequest(w, "MESSAGE_TOO_LONG")
		return
	}
	c.answered, c.text = true, req.params["text"]
	s.notifyLocked(0)
	ok(w, true)
}

func (s *Server) editMessageReplyMarkup(w http.ResponseWriter, req request) {
	chat, _ := strconv.ParseInt(req.params["chat_id"], 10, 64)
	id, _ := strconv.Atoi(req.params["message_id"])
	var kb [][]Button
	if rm := req.params["reply_markup"]; rm != "" {
		var desc string
		if kb, desc = parseKeyboard(rm); desc != "" {
			badRequest(w, desc)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, known := s.chats[chat]
	if !known {
		badRequest(w, "chat not found")
		return
	}
	for _, m := range s.messages[chat] {
		if m.ID != id || m.Deleted {
			continue
		}
		if len(m.Keyboard) == 0 && len(kb) == 0 {
			badRequest(w, "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
			return
		}
		m.Keyboard = kb
		s.notifyLocked(chat)
		ok(w, s.messageJSON(c, *m))
		return
	}
	badRequest(w, "message to edit not found")
}
