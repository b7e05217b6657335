// Package discord is the Discord adapter: it connects to the Discord gateway
// with discordgo, turns slash commands, button presses and direct messages
// into bot.Incoming, and sends the engine's replies back as Discord
// messages. It also implements bot.Sender, for daily prompts by direct
// message.
//
// Privacy rules it keeps: in a server, plain messages are never read (the
// message-content intent is not requested and server messages are dropped
// unread) and every slash-command reply is ephemeral, visible only to the
// person who asked, except /step with public:true, which the engine answers
// as in a group chat, with nothing personal. In a direct message, plain text
// is a reflection.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/bwmarrin/discordgo"

	"github.com/trustbot/trustbot/bot"
)

// Engine answers messages and records people who cannot be reached;
// *bot.Engine is one.
type Engine interface {
	Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error)
	MarkUnreachable(ctx context.Context, p bot.Platform, platformID string) error
}

// Options configure the adapter. Only Token and Engine are required.
type Options struct {
	// Token is the bot token from the Developer Portal (a "Bot " prefix is
	// accepted). It is never logged or put in an error.
	Token string
	// ApplicationID is the application whose slash commands are
	// registered; empty means the one the gateway's READY event names.
	ApplicationID string
	// GuildID, if set, registers the commands in that server only, where
	// changes show at once (for testing); empty registers them globally.
	GuildID string
	// APIURL is the REST base including the version; default DefaultAPIURL.
	// Large deployments point it at a shared rate-limit proxy.
	APIURL string
	// GatewayURL, if set, is the websocket URL to connect to instead of the
	// one GET /gateway returns (for a gateway proxy).
	GatewayURL string

	Engine Engine
	// Log receives connection problems and internal errors, never message
	// text or tokens. Nil discards.
	Log *slog.Logger
	// DeferAfter is how long an interaction waits for the engine before it
	// is acknowledged with "thinking…" and answered by an edit when the
	// engine is done. Discord allows 3 seconds in all; default 1s.
	DeferAfter time.Duration
	// HTTPClient, if set, sends the REST requests (its Transport is used).
	HTTPClient *http.Client
	// Messages records the ids of the messages in DM channels, for Wipe
	// (see wipe.go). nil: none are recorded, and Wipe fails.
	Messages MessageLog
	// Metrics counts what the adapter receives and sends; nil: none. See
	// observe.go.
	Metrics Metrics
}

// ErrConfig marks a problem with the options (the config file's
// [discord] table): errors.Is(err, ErrConfig) holds for them, and their
// text starts with the key, e.g. "token: missing: ...".
var ErrConfig = errors.New("discord config")

type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrConfig }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// ErrUnauthorized means Discord refused the bot token.
var ErrUnauthorized = errors.New("Discord refused the bot token (401 Unauthorized): copy it again from the Developer Portal, under your application's Bot page (Reset Token)")

var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// Check reports the first problem with the options, naming the config key
// (token, api_url, gateway_url, application_id, guild_id). The token's
// value is never part of the error.
func (o Options) Check() error {
	tok := cleanToken(o.Token)
	switch {
	case tok == "":
		return fmt.Errorf("token: missing: set it under [discord] or in DISCORD_BOT_TOKEN (the Developer Portal shows it on your application's Bot page)")
	case strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0,
		len(strings.Split(tok, ".")) != 3, strings.Contains(tok, ".."), strings.HasPrefix(tok, "."), strings.HasSuffix(tok, "."):
		return fmt.Errorf("token: does not look like a Discord bot token (three parts separated by dots); copy it again from the Developer Portal's Bot page")
	}
	if _, _, err := checkAPIURL(o.apiURL()); err != nil {
		return fmt.Errorf("api_url: %v", err)
	}
	if o.GatewayURL != "" {
		if !strings.HasPrefix(o.GatewayURL, "wss://") && !strings.HasPrefix(o.GatewayURL, "ws://") {
			return fmt.Errorf("gateway_url: %q is not a websocket URL (wss://...); leave it empty to ask Discord", o.GatewayURL)
		}
	}
	if o.ApplicationID != "" && !snowflake.MatchString(o.ApplicationID) {
		return fmt.Errorf("application_id: %q is not a Discord id (digits only); leave it empty to read it at start", o.ApplicationID)
	}
	if o.GuildID != "" && !snowflake.MatchString(o.GuildID) {
		return fmt.Errorf("guild_id: %q is not a Discord server id (digits only); leave it empty to register commands globally", o.GuildID)
	}
	return nil
}

func (o Options) apiURL() string {
	if o.APIURL == "" {
		return DefaultAPIURL
	}
	return o.APIURL
}

func cleanToken(t string) string {
	t = strings.TrimSpace(t)
	if len(t) > 4 && strings.EqualFold(t[:4], "bot ") {
		t = strings.TrimSpace(t[4:])
	}
	return t
}

// Adapter is a running connection to Discord.
type Adapter struct {
	s          *discordgo.Session
	engine     Engine
	msgs       MessageLog // nil: nothing recorded
	log        *slog.Logger
	guildID    string
	deferAfter time.Duration

	selfID string
	appID  atomic.Value // string: configured, or from READY

	// work is every turn in flight; base is their context, which outlives
	// Run's so that a shutdown lets them finish.
	queue   *queue
	base    context.Context
	stop    context.CancelFunc
	closing atomic.Bool
	closed  sync.Once

	dmMu sync.Mutex
	dm   map[string]string // user id -> DM channel id

	metrics Metrics // never nil
	gw      gatewayState
}

var _ bot.Sender = (*Adapter)(nil)

const (
	turnTimeout  = 30 * time.Second // one turn, including sending the replies
	startTimeout = 30 * time.Second // connecting to the gateway
	maxQueued    = 32               // per person; more is dropped (spam)
	dmCacheSize  = 10000
)

// Start checks the token, connects to the gateway and registers the slash
// commands (one bulk overwrite, so renamed or removed commands disappear).
// Errors wrapping ErrConfig or ErrUnauthorized are the operator's to fix;
// others (Discord unreachable) may pass on their own.
func Start(ctx context.Context, o Options) (*Adapter, error) {
	if o.Engine == nil {
		return nil, errors.New("discord: no engine")
	}
	if err := o.Check(); err != nil {
		return nil, &configError{msg: err.Error()}
	}
	base, version, _ := checkAPIURL(o.apiURL())
	useAPI(base, version)
	setLogger(o.Log)

	s, err := discordgo.New("Bot " + cleanToken(o.Token))
	if err != nil {
		return nil, fmt.Errorf("create Discord session: %w", err)
	}
	s.SyncEvents = true    // events reach us in order; the queue keeps each person's in order
	s.StateEnabled = false // nothing here reads the cache
	s.ShouldRetryOnRateLimit = false
	s.LogLevel = discordgo.LogError
	// Slash commands and buttons arrive whatever the intents; these add
	// server lifecycle and direct messages. No message-content intent.
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsDirectMessages
	transport := http.DefaultTransport
	timeout := 20 * time.Second
	if o.HTTPClient != nil {
		if o.HTTPClient.Transport != nil {
			transport = o.HTTPClient.Transport
		}
		if o.HTTPClient.Timeout > 0 {
			timeout = o.HTTPClient.Timeout
		}
	}
	if o.GatewayURL != "" {
		transport = gatewayOverride{base: transport, endpoint: base + "gateway", gatewayURL: o.GatewayURL}
	}
	s.Client = &http.Client{Timeout: timeout, Transport: transport}

	a := &Adapter{
		s: s, engine: o.Engine, msgs: o.Messages, log: o.Log, guildID: o.GuildID, deferAfter: o.DeferAfter,
		dm: map[string]string{}, metrics: o.Metrics,
	}
	if a.metrics == nil {
		a.metrics = noMetrics{}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.queue = newQueue(a.recover)
	if a.deferAfter <= 0 {
		a.deferAfter = time.Second
	}
	a.appID.Store(o.ApplicationID)
	a.base, a.stop = context.WithCancel(context.WithoutCancel(ctx))

	me, err := call(ctx, a, "", func(opts ...discordgo.RequestOption) (*discordgo.User, error) {
		return s.User("@me", opts...)
	})
	if err != nil {
		a.stop()
		if isStatus(err, http.StatusUnauthorized) {
			return nil, ErrUnauthorized
		}
		return nil, fmt.Errorf("reach the Discord API at %s: %w", base, err)
	}
	a.selfID = me.ID

	s.AddHandler(a.onReady)
	s.AddHandler(a.onConnect)
	s.AddHandler(a.onDisconnect)
	s.AddHandler(a.onInteraction)
	s.AddHandler(a.onMessage)
	if err := a.open(ctx); err != nil {
		a.stop()
		return nil, err
	}
	if err := a.registerCommands(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.log.Info("discord: connected", "bot", me.Username, "application", a.applicationID())
	return a, nil
}

// open connects to the gateway. discordgo's Open takes no context and can
// wait on a silent gateway for ever, so it is bounded here.
func (a *Adapter) open(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- a.s.Open() }()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errors.New("no READY from the gateway within 30s")
	}
	if err != nil {
		go func() {
			if <-done == nil {
				a.closeGateway()
			}
		}()
		return fmt.Errorf("connect to the Discord gateway: %w", err)
	}
	if a.applicationID() == "" {
		a.closeGateway()
		return configErrorf("application_id: the gateway did not say which application this bot belongs to; set it under [discord]")
	}
	return nil
}

func (a *Adapter) applicationID() string { return a.appID.Load().(string) }

func (a *Adapter) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	if r.Application != nil && r.Application.ID != "" {
		if cur := a.applicationID(); cur == "" {
			a.appID.Store(r.Application.ID)
		} else if cur != r.Application.ID {
			a.log.Warn("discord: application_id differs from the bot's application; commands are registered for the configured one",
				"configured", cur, "ready", r.Application.ID)
		}
	}
}

// Run blocks until ctx is done, then disconnects and waits for the turns
// in flight to be answered. discordgo reconnects on its own after network
// trouble.
func (a *Adapter) Run(ctx context.Context) error {
	<-ctx.Done()
	a.Close()
	return nil
}

// Close disconnects from the gateway and waits for the turns in flight.
// It is safe to call more than once.
func (a *Adapter) Close() error {
	a.closed.Do(func() {
		a.closing.Store(true)
		a.closeGateway()
		a.queue.close()
		a.stop()
	})
	return nil
}

// closeGateway disconnects for good. discordgo's heartbeat goroutine can
// still be waiting for the session lock while Close holds it (for a second);
// it then finds the connection closed and starts a reconnect, which would
// run on after shutdown. Turning reconnects off first prevents that.
func (a *Adapter) closeGateway() {
	a.s.Lock()
	a.s.ShouldReconnectOnError = false
	a.s.Unlock()
	if err := a.s.Close(); err != nil {
		a.log.Warn("discord: close gateway", "err", err)
	}
}

// onMessage handles MESSAGE_CREATE: direct messages only. Server messages
// are dropped unread; without the message-content intent Discord sends
// none but mentions, and even those are not looked at.
func (a *Adapter) onMessage(_ *discordgo.Session, m *discordgo.MessageCreate) {
	if a.closing.Load() || m.Message == nil || m.GuildID != "" || m.Author == nil || m.Author.Bot || m.Author.ID == a.selfID {
		return
	}
	defer a.recover("message")
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return
	}
	a.metrics.UpdateReceived()
	in := bot.Incoming{
		Platform: bot.PlatformDiscord, UserID: m.Author.ID, ChatID: m.ChannelID, Private: true,
		Name: displayName(m.Author), Text: m.Content, MessageID: m.ID,
	}
	channelID, msgID := m.ChannelID, m.ID
	if !a.queue.push(in.UserID, func() { a.dmTurn(in, channelID, msgID) }) {
		a.log.Warn("discord: too many messages waiting; one dropped", "user", in.UserID)
	}
}

// dmTurn answers the direct message msgID, and records it and the
// replies for /wipe.
func (a *Adapter) dmTurn(in bot.Incoming, channelID, msgID string) {
	ctx, cancel := context.WithTimeout(a.base, turnTimeout)
	defer cancel()
	replies, err := a.engine.Handle(ctx, in)
	if err != nil {
		a.log.Error("discord: handle message", "err", err)
	}
	var sent []string
	defer func() { a.remember(ctx, channelID, msgID, sent) }()
	for _, m := range outgoing(replies, a.log) {
		id, err := a.sendMessage(ctx, channelID, m)
		if err != nil {
			a.log.Warn("discord: reply to a direct message", "err", err)
			return
		}
		sent = append(sent, id)
	}
}

func displayName(u *discordgo.User) string {
	if u == nil {
		return ""
	}
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

// recover logs a panic in the adapter's code instead of letting it end the
// process: it would happen on discordgo's event loop or a person's queue.
// Neither the value nor the stack carries message text.
func (a *Adapter) recover(where string) {
	if v := recover(); v != nil {
		a.log.Error("discord: panic; the turn is dropped", "in", where, "panic", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
	}
}

// queue runs each person's turns one at a time, in arrival order, while
// different people's turns run in parallel.
type queue struct {
	mu      sync.Mutex
	m       map[string][]func()
	waiting int // jobs queued and not yet started, over all keys
	closed  bool
	busy    sync.WaitGroup
	recover func(where string) // deferred around each job
}

func newQueue(recover func(string)) *queue {
	return &queue{m: map[string][]func(){}, recover: recover}
}

// push queues job behind key's earlier jobs. It returns false (and drops
// the job) when maxQueued jobs are already waiting or the queue is closed.
func (q *queue) push(key string, job func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	jobs, running := q.m[key]
	if q.closed || len(jobs) >= maxQueued {
		return false
	}
	q.m[key] = append(jobs, job)
	q.waiting++
	if !running {
		q.busy.Add(1)
		go q.run(key)
	}
	return true
}

func (q *queue) run(key string) {
	defer q.busy.Done()
	for {
		q.mu.Lock()
		jobs := q.m[key]
		if len(jobs) == 0 {
			delete(q.m, key)
			q.mu.Unlock()
			return
		}
		job := jobs[0]
		q.m[key] = jobs[1:]
		q.waiting--
		q.mu.Unlock()
		func() {
			defer q.recover("turn")
			job()
		}()
	}
}

// close refuses new jobs and returns when the queued ones have run.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.busy.Wait()
}

// logSink is where discordgo's own log lines go: discordgo.Logger is one
// variable for the process, so it is set once and reads the current sink.
var (
	logSink    atomic.Pointer[slog.Logger]
	loggerOnce sync.Once
)

func setLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	logSink.Store(l)
	loggerOnce.Do(func() {
		discordgo.Logger = func(level, _ int, format string, args ...any) {
			// Only errors are logged (LogLevel is LogError); at that level
			// discordgo prints connection problems, never payloads.
			logSink.Load().Warn("discordgo: " + strings.TrimSpace(fmt.Sprintf(format, args...)))
		}
	})
}
