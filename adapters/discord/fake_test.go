package discord_test

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeDiscord is Discord on loopback: the REST endpoints the adapter uses
// and a gateway websocket that does the real handshake (Hello, Identify,
// Ready, heartbeats and their ACKs, zlib-compressed binary frames when the
// client asks for compression) and dispatches events. It answers with
// Discord's real error bodies.
type fakeDiscord struct {
	t     testing.TB
	srv   *httptest.Server
	token string // the bot token it accepts, without "Bot "
	appID string
	botID string
	// heartbeatMS is Hello's heartbeat_interval.
	heartbeatMS int
	// readyApp is the application id READY names ("" for none).
	readyApp string

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced whenever something is recorded
	reqs       []*request
	commands   map[string][]map[string]any // per scope ("global" or a guild id)
	failures   []*failure
	identifies []map[string]any
	resumes    int
	down       bool // the gateway refuses connections; see drop
	heartbeats int
	binary     int // binary (compressed) frames sent
	nextID     int
	sentAt     map[string]time.Time // interaction id -> when it was dispatched

	msgs map[string]*fakeMessage     // every message, by id; see fakewipe_test.go
	its  map[string]*fakeInteraction // interactions, by token

	wsMu sync.Mutex // one writer at a time on the gateway
	ws   *websocket.Conn
	zip  bool
	seq  int
}

// request is one REST request the fake received.
type request struct {
	Method, Path string
	Query        string
	Auth         string
	Body         map[string]any // JSON body, or multipart payload_json
	Files        map[string][]byte
	At           time.Time
	MsgID        string // the message it created or changed, if any
	done         bool   // answered: waiters see only answered requests
}

// failure makes matching requests fail, times times.
type failure struct {
	method, pathPrefix string
	status             int
	body               string
	header             http.Header
	times              int
}

func newFake(t testing.TB) *fakeDiscord {
	t.Helper()
	f := &fakeDiscord{
		t: t, token: "MTA4.fake-bot.token_for_tests", appID: "900000000000000001", botID: "900000000000000002",
		heartbeatMS: 41250, changed: make(chan struct{}), commands: map[string][]map[string]any{},
		sentAt: map[string]time.Time{}, msgs: map[string]*fakeMessage{}, its: map[string]*fakeInteraction{},
	}
	f.readyApp = f.appID
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.close)
	return f
}

func (f *fakeDiscord) apiURL() string { return f.srv.URL + "/api/v9" }

func (f *fakeDiscord) close() {
	f.wsMu.Lock()
	if f.ws != nil {
		f.ws.Close()
	}
	f.wsMu.Unlock()
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// notify wakes waiters; call with f.mu held.
func (f *fakeDiscord) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// failNext makes the next times requests with this method and path prefix
// (after /api/v9/) fail with status and body.
func (f *fakeDiscord) failNext(method, pathPrefix string, times, status int, body string, header http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &failure{method: method, pathPrefix: pathPrefix, status: status, body: body, header: header, times: times})
}

func (f *fakeDiscord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/gateway-ws/" || r.URL.Path == "/proxy-ws/" {
		f.mu.Lock()
		down := f.down
		f.mu.Unlock()
		if down {
			http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
			return
		}
		f.gateway(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v9/")
	if !ok {
		f.apiError(w, http.StatusNotFound, 0, "404: Not Found")
		return
	}
	req := &request{Method: r.Method, Path: path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), At: time.Now()}
	if err := readBody(r, req); err != nil {
		f.t.Errorf("fake discord: %s %s: %v", r.Method, path, err)
		f.apiError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	f.mu.Lock()
	var fail *failure
	for _, fl := range f.failures {
		if fl.times > 0 && fl.method == r.Method && strings.HasPrefix(path, fl.pathPrefix) {
			fl.times--
			fail = fl
			break
		}
	}
	f.reqs = append(f.reqs, req)
	f.notify()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		req.done = true
		f.notify()
		f.mu.Unlock()
	}()
	if fail != nil {
		for k, v := range fail.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fail.status)
		io.WriteString(w, fail.body)
		return
	}

	parts := strings.Split(path, "/")
	authed := req.Auth == "Bot "+f.token
	switch {
	case r.Method == "GET" && path == "gateway":
		f.json(w, map[string]any{"url": "ws://" + r.Host + "/gateway-ws"})
	case !authed && parts[0] != "interactions" && parts[0] != "webhooks":
		f.apiError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
	case r.Method == "GET" && path == "users/@me":
		f.json(w, map[string]any{"id": f.botID, "username": "trustbot", "bot": true, "discriminator": "0"})
	case r.Method == "PUT" && len(parts) >= 3 && parts[0] == "applications" && parts[len(parts)-1] == "commands":
		f.putCommands(w, req, parts)
	case r.Method == "POST" && path == "users/@me/channels":
		rid, _ := req.Body["recipient_id"].(string)
		f.json(w, map[string]any{"id": "7" + rid, "type": 1, "recipients": []any{map[string]any{"id": rid}}})
	case r.Method == "POST" && len(parts) == 3 && parts[0] == "channels" && parts[2] == "messages":
		f.json(w, f.message(parts[1], req))
	case r.Method == "DELETE" && len(parts) == 4 && parts[0] == "channels" && parts[2] == "messages":
		f.deleteMessage(w, parts[1], parts[3])
	case r.Method == "POST" && len(parts) == 4 && parts[0] == "interactions" && parts[3] == "callback":
		f.callback(w, req, parts[2])
	case r.Method == "POST" && len(parts) == 3 && parts[0] == "webhooks":
		f.followUp(w, req, parts[2])
	case len(parts) == 5 && parts[0] == "webhooks" && parts[3] == "messages" && parts[4] == "@original":
		f.original(w, req, parts[2])
	default:
		f.apiError(w, http.StatusNotFound, 0, "404: Not Found")
	}
}

// message creates a message of the bot in a channel, as req asks.
func (f *fakeDiscord) message(channelID string, req *request) map[string]any {
	f.mu.Lock()
	f.nextID++
	id := strconv.Itoa(1000 + f.nextID)
	f.msgs[id] = &fakeMessage{id: id, channel: channelID, fromBot: true}
	req.MsgID = id
	f.mu.Unlock()
	return f.messageJSON(id, channelID, req)
}

func (f *fakeDiscord) messageJSON(id, channelID string, req *request) map[string]any {
	m := map[string]any{"id": id, "channel_id": channelID, "type": 0,
		"author": map[string]any{"id": f.botID, "username": "trustbot", "bot": true}}
	for k, v := range req.Body {
		if k == "content" || k == "components" || k == "flags" {
			m[k] = v
		}
	}
	return m
}

// putCommands is a bulk overwrite: the scope's commands become exactly the
// ones sent.
func (f *fakeDiscord) putCommands(w http.ResponseWriter, req *request, parts []string) {
	if parts[1] != f.appID {
		f.apiError(w, http.StatusForbidden, 50001, "Missing Access")
		return
	}
	scope := "global"
	if len(parts) == 5 && parts[2] == "guilds" {
		scope = parts[3]
	}
	var cmds []map[string]any
	if err := json.Unmarshal(mustJSON(req.Body["_array"]), &cmds); err != nil {
		f.apiError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	for i, c := range cmds {
		c["id"] = strconv.Itoa(500 + i)
		c["application_id"] = f.appID
	}
	f.mu.Lock()
	f.commands[scope] = cmds
	f.mu.Unlock()
	f.json(w, cmds)
}

func (f *fakeDiscord) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeDiscord) apiError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message": %q, "code": %d}`, msg, code)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// readBody decodes a JSON or multipart (payload_json plus files) body. An
// array body is kept under "_array".
func readBody(r *http.Request, req *request) error {
	data, err := io.ReadAll(r.Body)
	if err != nil || len(data) == 0 {
		return err
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		mr := multipart.NewReader(bytes.NewReader(data), params["boundary"])
		req.Files = map[string][]byte{}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(p)
			if p.FormName() == "payload_json" {
				data = b
			} else {
				req.Files[p.FileName()] = b
			}
		}
	}
	if len(data) > 0 && data[0] == '[' {
		var arr []any
		if err := json.Unmarshal(data, &arr); err != nil {
			return err
		}
		req.Body = map[string]any{"_array": arr}
		return nil
	}
	return json.Unmarshal(data, &req.Body)
}

var upgrader = websocket.Upgrader{}

// gateway speaks the gateway protocol on one connection.
func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") != "9" || r.URL.Query().Get("encoding") != "json" {
		f.t.Errorf("gateway: query %q, want v=9&encoding=json", r.URL.RawQuery)
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	// Hello goes out uncompressed: compression is only agreed in Identify.
	if err := c.WriteJSON(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": f.heartbeatMS}}); err != nil {
		return
	}
	var ident struct {
		Op int            `json:"op"`
		D  map[string]any `json:"d"`
	}
	if err := c.ReadJSON(&ident); err != nil || (ident.Op != 2 && ident.Op != 6) {
		f.t.Errorf("gateway: want Identify (op 2) or Resume (op 6), got op %d, %v", ident.Op, err)
		return
	}
	if ident.Op == 6 {
		f.resume(c, ident.D)
		return
	}
	f.mu.Lock()
	f.identifies = append(f.identifies, ident.D)
	f.notify()
	f.mu.Unlock()
	if ident.D["token"] != "Bot "+f.token {
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
		return
	}
	f.wsMu.Lock()
	f.ws, f.zip, f.seq = c, ident.D["compress"] == true, 0
	f.wsMu.Unlock()
	ready := map[string]any{
		"v": 9, "session_id": "fake-session", "resume_gateway_url": "ws://" + r.Host + "/gateway-ws",
		"user":   map[string]any{"id": f.botID, "username": "trustbot", "bot": true},
		"guilds": []any{}, "private_channels": []any{},
	}
	if f.readyApp != "" {
		ready["application"] = map[string]any{"id": f.readyApp, "flags": 0}
	}
	if err := f.dispatch("READY", ready); err != nil {
		return
	}
	f.serveGateway(c)
}

// resume answers a Resume (after a dropped connection) with RESUMED, as
// Discord does when the session is still known, and goes on serving.
func (f *fakeDiscord) resume(c *websocket.Conn, d map[string]any) {
	if d["token"] != "Bot "+f.token || d["session_id"] != "fake-session" {
		f.t.Errorf("gateway: Resume with an unknown token or session %v", d["session_id"])
		return
	}
	f.mu.Lock()
	f.resumes++
	f.notify()
	f.mu.Unlock()
	f.wsMu.Lock()
	f.ws = c // compression stays as Identify agreed; the sequence goes on
	f.wsMu.Unlock()
	if err := f.dispatch("RESUMED", map[string]any{}); err != nil {
		return
	}
	f.serveGateway(c)
}

// drop closes the gateway connection as a network failure would, and
// refuses new ones while down; drop(false) lets them in again.
func (f *fakeDiscord) drop(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
	if !down {
		return
	}
	f.wsMu.Lock()
	if f.ws != nil {
		f.ws.Close()
		f.ws = nil
	}
	f.wsMu.Unlock()
}

// serveGateway answers heartbeats until the connection ends.
func (f *fakeDiscord) serveGateway(c *websocket.Conn) {
	for {
		var msg struct {
			Op int `json:"op"`
		}
		if err := c.ReadJSON(&msg); err != nil {
			return
		}
		if msg.Op == 1 {
			f.mu.Lock()
			f.heartbeats++
			f.notify()
			f.mu.Unlock()
			if err := f.write(map[string]any{"op": 11}); err != nil {
				return
			}
		}
	}
}

// write sends one gateway payload, zlib-compressed in a binary frame if the
// client asked for compression.
func (f *fakeDiscord) write(v any) error {
	f.wsMu.Lock()
	defer f.wsMu.Unlock()
	if f.ws == nil {
		return fmt.Errorf("gateway not connected")
	}
	data := mustJSON(v)
	if !f.zip {
		return f.ws.WriteMessage(websocket.TextMessage, data)
	}
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	f.mu.Lock()
	f.binary++
	f.mu.Unlock()
	return f.ws.WriteMessage(websocket.BinaryMessage, b.Bytes())
}

// dispatch sends an event (op 0) with the next sequence number.
func (f *fakeDiscord) dispatch(event string, d any) error {
	f.wsMu.Lock()
	f.seq++
	seq := f.seq
	f.wsMu.Unlock()
	return f.write(map[string]any{"op": 0, "t": event, "s": seq, "d": d})
}

// requests returns a copy of what was received so far.
func (f *fakeDiscord) requests() []*request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*request(nil), f.reqs...)
}

// waitFor waits until cond holds (it is checked under the fake's lock
// whenever something is recorded) or fails the test after a deadline.
func (f *fakeDiscord) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok := cond()
		ch := f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// matching returns the requests (under f.mu) whose path has prefix.
func (f *fakeDiscord) matchingLocked(method, pathPrefix string) []*request {
	var out []*request
	for _, r := range f.reqs {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

// ---- what a person does

type person struct {
	id, name string
	guild    string // "" in a DM
	channel  string
}

func (p person) userJSON() map[string]any {
	return map[string]any{"id": p.id, "username": strings.ToLower(strings.ReplaceAll(p.name, " ", "")), "global_name": p.name, "discriminator": "0"}
}

// interaction dispatches an INTERACTION_CREATE from p and returns its id.
func (f *fakeDiscord) interaction(t testing.TB, p person, typ int, data map[string]any, msg map[string]any) string {
	t.Helper()
	f.mu.Lock()
	f.nextID++
	id := strconv.Itoa(800000 + f.nextID)
	f.mu.Unlock()
	in := map[string]any{
		"id": id, "application_id": f.appID, "type": typ, "data": data,
		"channel_id": p.channel, "token": "itok-" + id + "-secret", "version": 1, "locale": "en-US",
	}
	if p.guild != "" {
		in["guild_id"] = p.guild
		in["member"] = map[string]any{"user": p.userJSON(), "roles": []any{}, "joined_at": "2024-01-02T03:04:05Z", "nick": nil}
		in["context"] = 0
	} else {
		in["user"] = p.userJSON()
		in["context"] = 1
	}
	if msg != nil {
		in["message"] = msg
	}
	f.mu.Lock()
	f.sentAt[id] = time.Now()
	it := &fakeInteraction{id: id, channel: p.channel}
	if msg != nil {
		it.pressed, _ = msg["id"].(string)
	}
	f.its[in["token"].(string)] = it
	f.mu.Unlock()
	if err := f.dispatch("INTERACTION_CREATE", in); err != nil {
		t.Fatalf("dispatch interaction: %v", err)
	}
	return id
}

// slash runs a slash command; opts are option name/value pairs.
func (f *fakeDiscord) slash(t testing.TB, p person, name string, opts ...any) string {
	t.Helper()
	var options []any
	for i := 0; i+1 < len(opts); i += 2 {
		typ := 3
		switch opts[i+1].(type) {
		case int:
			typ = 4
		case bool:
			typ = 5
		}
		options = append(options, map[string]any{"name": opts[i], "type": typ, "value": opts[i+1]})
	}
	return f.interaction(t, p, 2, map[string]any{"id": "500", "name": name, "type": 1, "options": options}, nil)
}

// press presses the button with customID on a message the bot sent.
func (f *fakeDiscord) press(t testing.TB, p person, customID string, on reply) string {
	t.Helper()
	id := on.ID
	if id == "" {
		id = "4242"
	}
	msg := map[string]any{
		"id": id, "channel_id": p.channel, "type": 0, "content": on.Content, "components": on.Components,
		"flags": on.Flags, "author": map[string]any{"id": f.botID, "username": "trustbot", "bot": true},
	}
	return f.interaction(t, p, 3, map[string]any{"custom_id": customID, "component_type": 2}, msg)
}

// dm sends a direct message from p.
func (f *fakeDiscord) dm(t testing.TB, p person, text string) {
	t.Helper()
	f.mu.Lock()
	f.nextID++
	id := strconv.Itoa(600000 + f.nextID)
	if p.guild == "" {
		f.msgs[id] = &fakeMessage{id: id, channel: p.channel}
	}
	f.mu.Unlock()
	m := map[string]any{"id": id, "channel_id": p.channel, "author": p.userJSON(), "content": text, "type": 0,
		"timestamp": "2024-01-02T03:04:05Z", "mentions": []any{}, "attachments": []any{}, "embeds": []any{}}
	if p.guild != "" {
		m["guild_id"] = p.guild
		m["member"] = map[string]any{"roles": []any{}, "joined_at": "2024-01-02T03:04:05Z"}
	}
	if err := f.dispatch("MESSAGE_CREATE", m); err != nil {
		t.Fatalf("dispatch message: %v", err)
	}
}

// ---- what the bot sent

// reply is one message the bot sent, as the person sees it.
type reply struct {
	Via        string // "respond", "defer", "update", "defer-update", "edit", "followup", "dm", "delete"
	ID         string // the message it created or changed
	Content    string
	Flags      int
	Components []any
	Files      map[string][]byte
	Mentions   any // allowed_mentions as sent
	req        *request
}

func (r reply) ephemeral() bool { return r.Flags&64 != 0 }

// buttons lists the reply's buttons' custom ids and whether each is disabled.
func (r reply) buttons() (ids []string, disabled []bool) {
	for _, row := range r.Components {
		rm, _ := row.(map[string]any)
		cs, _ := rm["components"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			id, _ := cm["custom_id"].(string)
			d, _ := cm["disabled"].(bool)
			ids = append(ids, id)
			disabled = append(disabled, d)
		}
	}
	return ids, disabled
}

func toReply(req *request) reply {
	r := reply{req: req, Files: req.Files, ID: req.MsgID}
	body := req.Body
	switch {
	case strings.HasSuffix(req.Path, "/callback"):
		typ, _ := body["type"].(float64)
		r.Via = map[float64]string{4: "respond", 5: "defer", 6: "defer-update", 7: "update", 8: "autocomplete"}[typ]
		body, _ = body["data"].(map[string]any)
	case req.Method == "PATCH":
		r.Via = "edit"
	case req.Method == "DELETE":
		r.Via = "delete"
	case strings.HasPrefix(req.Path, "webhooks/"):
		r.Via = "followup"
	default:
		r.Via = "dm"
	}
	if body != nil {
		r.Content, _ = body["content"].(string)
		fl, _ := body["flags"].(float64)
		r.Flags = int(fl)
		r.Components, _ = body["components"].([]any)
		r.Mentions = body["allowed_mentions"]
	}
	return r
}

// isMessage reports whether a request carries a message the person sees.
func isMessage(r *request) bool {
	switch {
	case r.Method == "POST" && strings.HasPrefix(r.Path, "interactions/"),
		r.Method == "POST" && strings.HasPrefix(r.Path, "webhooks/"),
		r.Method == "PATCH" && strings.HasPrefix(r.Path, "webhooks/"),
		r.Method == "DELETE" && strings.HasPrefix(r.Path, "webhooks/"),
		r.Method == "POST" && strings.HasPrefix(r.Path, "channels/"):
		return true
	}
	return false
}

// answersTo waits until the interaction id has n answers (its callback,
// edits, follow-ups) and returns them in order.
func (f *fakeDiscord) answersTo(t testing.TB, id string, n int) []reply {
	t.Helper()
	var got []reply
	f.waitFor(t, fmt.Sprintf("%d answers to interaction %s", n, id), func() bool {
		got = got[:0]
		for _, r := range f.reqs {
			if isMessage(r) && (strings.HasPrefix(r.Path, "interactions/"+id+"/") || strings.Contains(r.Path, "/itok-"+id+"-")) {
				if !r.done {
					break // in order: only what was answered
				}
				got = append(got, toReply(r))
			}
		}
		return len(got) >= n
	})
	return got
}

// answersUntil waits until an answer to the interaction satisfies last
// and returns the answers up to it.
func (f *fakeDiscord) answersUntil(t testing.TB, id, what string, last func(reply) bool) []reply {
	t.Helper()
	var got []reply
	f.waitFor(t, what, func() bool {
		got = got[:0]
		for _, r := range f.reqs {
			if isMessage(r) && (strings.HasPrefix(r.Path, "interactions/"+id+"/") || strings.Contains(r.Path, "/itok-"+id+"-")) {
				if !r.done {
					return false // in order: only what was answered
				}
				got = append(got, toReply(r))
				if last(got[len(got)-1]) {
					return true
				}
			}
		}
		return false
	})
	return got
}

// countIn returns how many messages were posted to a channel so far.
func (f *fakeDiscord) countIn(channel string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.matchingLocked("POST", "channels/"+channel+"/messages"))
}

// dmsTo waits until the channel has n messages from the bot in all and
// returns them.
func (f *fakeDiscord) dmsTo(t testing.TB, channel string, n int) []reply {
	t.Helper()
	var got []reply
	f.waitFor(t, fmt.Sprintf("%d messages in channel %s", n, channel), func() bool {
		got = got[:0]
		for _, r := range f.matchingLocked("POST", "channels/"+channel+"/messages") {
			if !r.done {
				break
			}
			got = append(got, toReply(r))
		}
		return len(got) >= n
	})
	return got
}
