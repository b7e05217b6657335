// Package telegram is trustbot's Telegram adapter. It turns Bot API updates
// into bot.Incoming for the engine, renders the engine's replies as Telegram
// messages (HTML, inline keyboards, documents) within Telegram's limits and
// rate limits, and implements bot.Sender for the daily prompts. It talks to
// the Bot API with github.com/go-telegram/bot, by long polling or through a
// webhook.
//
// Every Telegram quirk lives here: parse modes, the 4,096-unit message limit,
// 64-byte callback data, "@botname" suffixes on commands, update ids, 429s
// with retry_after, group privacy. The engine never sees a chat type or an
// HTML tag.
package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/trustbot/trustbot/bot"
)

// DefaultAPIURL is the public Bot API. Operators of a local Bot API server
// (github.com/tdlib/telegram-bot-api) point Options.APIURL at it instead.
const DefaultAPIURL = "https://api.telegram.org"

// Mode is how updates reach the adapter.
type Mode string

const (
	// ModePolling asks Telegram for updates with long polling (getUpdates).
	// It needs no public address.
	ModePolling Mode = "polling"
	// ModeWebhook lets Telegram POST updates to an HTTPS URL.
	ModeWebhook Mode = "webhook"
)

// Engine answers messages. *bot.Engine implements it.
type Engine interface {
	Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error)
	// MarkUnreachable records that nothing can be delivered to the person
	// until they write again (they blocked the bot).
	MarkUnreachable(ctx context.Context, p bot.Platform, platformID string) error
}

// UpdateLog remembers which updates were handled, so that an update Telegram
// delivers twice (a webhook retry, a poll replayed after a crash) is handled
// once. storage.Store implements it.
type UpdateLog interface {
	// TelegramUpdateHandled reports whether update id was marked handled
	// within the 24 hours before now.
	TelegramUpdateHandled(ctx context.Context, id int64, now time.Time) (bool, error)
	// MarkTelegramUpdatesHandled records the update ids as handled at now,
	// and forgets updates handled more than 24 hours before now. The
	// adapter calls it with the updates of the last few milliseconds.
	MarkTelegramUpdatesHandled(ctx context.Context, ids []int64, now time.Time) error
}

// Inbox keeps the updates received and not yet handled, so that a crash
// loses none (see inbox.go). storage.Store implements it. Marking an update
// handled in the UpdateLog removes it from the Inbox.
type Inbox interface {
	// AddTelegramInbox stores the updates (ids[i] with its JSON raws[i])
	// durably, in one transaction; an id already stored is left as it is.
	AddTelegramInbox(ctx context.Context, ids []int64, raws [][]byte) error
	// TelegramInbox calls fn with each stored update, in id order, and
	// stops at fn's first error.
	TelegramInbox(ctx context.Context, fn func(id int64, raw []byte) error) error
}

// Options configure an Adapter. Token and Engine are required; zero values
// of the rest mean the documented defaults.
type Options struct {
	Token  string // from @BotFather; never logged
	APIURL string // default DefaultAPIURL
	Mode   Mode   // default ModePolling

	// Webhook mode: the adapter listens on Listen (plain HTTP, behind a
	// TLS-terminating proxy) for POSTs to PublicURL's path, and registers
	// PublicURL with Telegram. Secret is sent back by Telegram in the
	// X-Telegram-Bot-Api-Secret-Token header of every update.
	Listen    string
	PublicURL string
	Secret    string
	// HTTP, if set, gets every request to the webhook's listener other
	// than the update POSTs (main serves /healthz and /metrics there),
	// instead of the adapter's own GET /healthz.
	HTTP http.Handler

	// RateLimit is the most messages per second sent across all chats. With
	// it on, each chat also gets bursts of a few messages and then about one
	// a second, and a group at most 20 a minute. 0 turns all pacing off (for
	// a local Bot API server or a load test). Negative is invalid.
	RateLimit int

	Engine  Engine
	Updates UpdateLog    // nil: no protection against repeated updates
	Inbox   Inbox        // nil: updates in flight at a crash are lost; needs Updates
	Log     *slog.Logger // nil: discard
	Metrics Metrics      // nil: none; see observe.go
	Now     func() time.Time

	// Messages records the ids of messages in private chats, for Wipe
	// (see wipe.go). nil: none are recorded, and Wipe fails.
	Messages MessageLog

	// Tuning, mostly for tests.
	PollTimeout     time.Duration // long-poll wait; default 50 s
	StartTimeout    time.Duration // for the calls made by New; default 15 s
	ShutdownTimeout time.Duration // to finish in-flight updates on shutdown; default 10 s
	RetryBackoff    time.Duration // first wait after a 5xx or network error; default 500 ms
	MaxAttempts     int           // tries of a send on 5xx and network errors; default 6
	ConflictTimeout time.Duration // how long polling tolerates 409 Conflict; default 2 min
	HTTPClient      *http.Client  // default: a client with a connection pool sized for bursts
}

// ConfigError is a problem with the options, named by its config key
// (telegram.KEY). It never quotes the token or the secret.
type ConfigError struct {
	Key string
	Msg string
}

func (e *ConfigError) Error() string { return "telegram." + e.Key + ": " + e.Msg }

// ErrUnauthorized means Telegram rejected the token (401): it was revoked or
// mistyped.
var ErrUnauthorized = errors.New("telegram rejected the bot token (401 Unauthorized): check telegram.token or TELEGRAM_BOT_TOKEN, or get a new token from @BotFather with /token")

// tokenRE is the shape of BotFather tokens: the bot's numeric id, a colon,
// and a secret of URL-safe characters (35 today).
var tokenRE = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{30,100}$`)

// secretRE is what setWebhook accepts as secret_token.
var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Validate checks o's config-level settings (not Engine or Updates) and
// returns a *ConfigError naming the first bad key.
func Validate(o Options) error {
	switch {
	case strings.TrimSpace(o.Token) == "":
		return &ConfigError{"token", "is empty: set it in the config or in TELEGRAM_BOT_TOKEN (@BotFather gives you one with /newbot)"}
	case !tokenRE.MatchString(o.Token):
		return &ConfigError{"token", "does not look like a bot token (want the bot id, a colon and the secret, like 123456789:AAH…, as @BotFather shows it); check for quotes or spaces"}
	}
	api := o.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	if u, err := url.Parse(api); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return &ConfigError{"api_url", fmt.Sprintf("%q is not an http(s) URL like %q", api, DefaultAPIURL)}
	}
	if o.RateLimit < 0 {
		return &ConfigError{"rate_limit", fmt.Sprintf("%d is negative: use messages per second (30 is Telegram's limit), or 0 for no pacing", o.RateLimit)}
	}
	switch o.Mode {
	case "", ModePolling:
		return nil
	case ModeWebhook:
	default:
		return &ConfigError{"mode", fmt.Sprintf("%q is not \"polling\" or \"webhook\"", o.Mode)}
	}
	if strings.TrimSpace(o.Listen) == "" {
		return &ConfigError{"listen", "is empty: webhook mode needs an address to listen on, like \"127.0.0.1:8080\""}
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &ConfigError{"public_url", fmt.Sprintf("%q is not an absolute URL like \"https://bot.example.com/telegram\"", o.PublicURL)}
	}
	// The public Bot API only delivers to HTTPS; a local Bot API server may
	// deliver to plain HTTP.
	if u.Scheme != "https" && strings.TrimRight(api, "/") == DefaultAPIURL {
		return &ConfigError{"public_url", "must be https:// (Telegram delivers webhooks over HTTPS only; put a TLS proxy in front of telegram.listen)"}
	}
	if !secretRE.MatchString(o.Secret) {
		return &ConfigError{"secret", "must be 1 to 256 letters, digits, '-' or '_' in webhook mode (set it in the config or in TELEGRAM_WEBHOOK_SECRET)"}
	}
	return nil
}

// Adapter connects the engine to one Telegram bot.
type Adapter struct {
	opts     Options
	log      *slog.Logger
	client   *tgbot.Bot
	username string // the bot's @username, without '@'
	pace     *pacer
	listener net.Listener // webhook mode

	// Handlers run with workCtx, which outlives Run's ctx by up to
	// ShutdownTimeout so that in-flight updates finish.
	workCtx    context.Context
	cancelWork context.CancelFunc

	queues queues
	used   usedKeyboards
	marks  *marks       // nil without Options.Updates
	inbox  *inboxWriter // nil without Options.Inbox
	rec    *recorder    // nil without Options.Messages

	metrics Metrics // never nil

	mu       sync.Mutex
	fatal    error         // set when polling cannot go on
	fatalc   chan struct{} // closed when fatal is set
	conflict time.Time     // first 409 of the current run of conflicts
	pollFail time.Time     // first failure of the current run of failed polls
	polling  time.Time     // when the getUpdates call in flight began; zero if none
	stopping bool          // Run is shutting down: refuse webhook updates
	ran      bool
}

var _ bot.Sender = (*Adapter)(nil)

// allowedUpdates are the update types the adapter asks for.
var allowedUpdates = []string{
	models.AllowedUpdateMessage, models.AllowedUpdateEditedMessage,
	models.AllowedUpdateCallbackQuery, models.AllowedUpdateMyChatMember,
}

// New checks the options, calls getMe (for the bot's username) and
// setMyCommands, and prepares for Run: in polling mode it deletes any
// webhook (getUpdates fails while one is set); in webhook mode it starts
// listening on o.Listen and registers the webhook with the secret.
//
// Errors: a *ConfigError for bad options, an error wrapping ErrUnauthorized
// if Telegram rejects the token, and any other error when the Bot API cannot
// be reached. No error contains the token or the secret.
func New(ctx context.Context, o Options) (*Adapter, error) {
	if err := Validate(o); err != nil {
		return nil, err
	}
	if o.Engine == nil {
		return nil, errors.New("telegram: Options.Engine is nil")
	}
	if o.Inbox != nil && o.Updates == nil {
		// Marking updates handled is what empties the inbox.
		return nil, errors.New("telegram: Options.Inbox needs Options.Updates")
	}
	setDefaults(&o)
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{opts: o, log: log, pace: newPacer(o.RateLimit), fatalc: make(chan struct{}), metrics: o.Metrics}
	if a.metrics == nil {
		a.metrics = noMetrics{}
	}
	a.workCtx, a.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	a.queues.init()
	if o.Updates != nil {
		a.marks = newMarks(o.Updates, o.Now, log)
	}
	if o.Inbox != nil {
		a.inbox = &inboxWriter{inbox: o.Inbox}
	}
	if o.Messages != nil {
		a.rec = newRecorder(o.Messages, log)
	}

	client, err := tgbot.New(o.Token,
		tgbot.WithServerURL(o.APIURL),
		tgbot.WithSkipGetMe(), // called below, with our timeout and error handling
		tgbot.WithHTTPClient(o.PollTimeout, &observedClient{c: o.HTTPClient, a: a}),
		// One update at a time into our own per-chat queues: the library
		// would otherwise run every update in its own goroutine, unordered.
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithWorkers(1),
		tgbot.WithUpdatesChannelCap(0),
		tgbot.WithDefaultHandler(func(_ context.Context, _ *tgbot.Bot, u *models.Update) { a.enqueue(u) }),
		tgbot.WithErrorsHandler(a.libError),
		tgbot.WithAllowedUpdates(allowedUpdates),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s", a.describe(err))
	}
	a.client = client

	sctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	me, err := client.GetMe(sctx)
	if err != nil {
		return nil, a.startError("getMe", err)
	}
	if me.Username == "" {
		return nil, fmt.Errorf("telegram: getMe at %s returned no username; is telegram.api_url a Bot API server?", o.APIURL)
	}
	a.username = me.Username

	if _, err := client.SetMyCommands(sctx, &tgbot.SetMyCommandsParams{Commands: menu()}); err != nil {
		return nil, a.startError("setMyCommands", err)
	}
	if o.Mode == ModePolling {
		if _, err := client.DeleteWebhook(sctx, &tgbot.DeleteWebhookParams{}); err != nil {
			return nil, a.startError("deleteWebhook", err)
		}
		return a, nil
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("telegram.listen: %w", err)
	}
	// Connections wait in the listen backlog until Run serves them.
	if _, err := client.SetWebhook(sctx, &tgbot.SetWebhookParams{
		URL: o.PublicURL, SecretToken: o.Secret, AllowedUpdates: allowedUpdates,
	}); err != nil {
		ln.Close()
		return nil, a.startError("setWebhook", err)
	}
	a.listener = ln
	return a, nil
}

func setDefaults(o *Options) {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	o.APIURL = strings.TrimRight(o.APIURL, "/")
	if o.Mode == "" {
		o.Mode = ModePolling
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 50 * time.Second
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 15 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 500 * time.Millisecond
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.ConflictTimeout <= 0 {
		o.ConflictTimeout = 2 * time.Minute
	}
	if o.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// The default keeps 2 idle connections per host: a burst of
		// replies would open and drop hundreds of connections.
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 256
		// Long polls wait PollTimeout on the server; sends set their own
		// deadlines through their contexts.
		o.HTTPClient = &http.Client{Transport: t, Timeout: o.PollTimeout + 15*time.Second}
	}
}

// startError explains a failed call made by New.
func (a *Adapter) startError(method string, err error) error {
	if errors.Is(err, tgbot.ErrorUnauthorized) {
		return fmt.Errorf("telegram: %s: %w", method, ErrUnauthorized)
	}
	if errors.Is(err, tgbot.ErrorNotFound) {
		return &ConfigError{"api_url", fmt.Sprintf("%s answered 404 Not Found to %s: is it a Bot API server?", a.opts.APIURL, method)}
	}
	return fmt.Errorf("telegram: %s at %s failed: %s (is the Bot API reachable from here?)", method, a.opts.APIURL, a.describe(err))
}

// menu is the command list for setMyCommands: every command, with its
// one-line description, so that Telegram's menu shows them all.
func menu() []models.BotCommand {
	cmds := make([]models.BotCommand, 0, len(bot.Commands))
	for _, c := range bot.Commands {
		cmds = append(cmds, models.BotCommand{Command: c.Name, Description: c.Description})
	}
	return cmds
}

// Username returns the bot's username (without '@'), as getMe reported it.
func (a *Adapter) Username() string { return a.username }

// Run receives updates until ctx is done, then finishes the updates in
// flight (for up to ShutdownTimeout) and returns. It returns an error only
// when receiving cannot go on: the token was revoked, or another program
// keeps polling or set a webhook for the same bot.
func (a *Adapter) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.ran {
		a.mu.Unlock()
		return errors.New("telegram: Run called twice")
	}
	a.ran = true
	a.mu.Unlock()
	if a.marks != nil {
		go a.marks.run()
		defer a.marks.close() // after drain: the last handled updates are recorded
	}
	if a.rec != nil {
		go a.rec.run()
		defer a.rec.close() // after drain: the last turns' message ids are recorded
	}
	if a.inbox != nil {
		// Before anything new: a chat's old updates come first.
		if err := a.replay(ctx); err != nil {
			if a.listener != nil {
				a.listener.Close()
			}
			a.drain()
			return err
		}
	}

	var err error
	if a.opts.Mode == ModeWebhook {
		err = a.runWebhook(ctx)
	} else {
		err = a.runPolling(ctx)
	}
	a.drain()
	return err
}

func (a *Adapter) runPolling(ctx context.Context) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		a.client.Start(pctx)
		close(done)
	}()
	select {
	case <-ctx.Done():
	case <-a.fatalc:
	}
	cancel()
	<-done
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopping = true
	return a.fatal
}

// setFatal stops Run with err.
func (a *Adapter) setFatal(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fatal == nil {
		a.fatal = err
		close(a.fatalc)
	}
}

// drain waits for the queued updates to be handled, for up to
// ShutdownTimeout, then cancels what is left.
func (a *Adapter) drain() {
	done := make(chan struct{})
	go func() {
		a.queues.wait()
		close(done)
	}()
	t := time.NewTimer(a.opts.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		a.log.Warn("telegram: shutdown timeout: abandoning updates still in flight", "timeout", a.opts.ShutdownTimeout)
		a.cancelWork()
		<-done
	}
	a.cancelWork()
}

// observedClient sits between the library and HTTP. It watches getUpdates
// answers (the library retries failed polls forever and does not single out
// 401 or 409), and sends each request body in one piece: the library
// streams the multipart form through a pipe, which goes out chunked, one
// write system call per form field.
type observedClient struct {
	c *http.Client
	a *Adapter
}

func (o *observedClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.ContentLength <= 0 {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("build request: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	poll := strings.HasSuffix(req.URL.Path, "/getUpdates")
	if poll {
		o.a.pollBegins()
	}
	resp, err := o.c.Do(req)
	if poll && err == nil && resp.StatusCode == http.StatusOK && o.a.inbox != nil {
		// Stored before the library sees them, so before it confirms them.
		resp, err = o.a.keepPolled(req.Context(), resp)
	}
	if poll {
		o.a.pollEnds()
		switch {
		case err == nil:
			o.a.pollStatus(resp.StatusCode)
		case req.Context().Err() == nil: // not a shutdown
			o.a.pollFailed()
		}
	}
	return resp, err
}

// pollStatus reacts to the HTTP status of a getUpdates call. Telegram uses
// the error_code as the status.
func (a *Adapter) pollStatus(code int) {
	if code != http.StatusOK {
		a.pollFailed()
	}
	switch code {
	case http.StatusOK:
		a.mu.Lock()
		a.conflict, a.pollFail = time.Time{}, time.Time{}
		a.mu.Unlock()
	case http.StatusUnauthorized:
		a.setFatal(fmt.Errorf("telegram: getUpdates: %w", ErrUnauthorized))
	case http.StatusConflict:
		now := time.Now()
		a.mu.Lock()
		if a.conflict.IsZero() {
			a.conflict = now
		}
		since := a.conflict
		a.mu.Unlock()
		if now.Sub(since) >= a.opts.ConflictTimeout {
			a.setFatal(fmt.Errorf("telegram: getUpdates has been refused with 409 Conflict for %s: another program is polling with this bot token, or set a webhook for it; stop it (or use mode = \"webhook\" everywhere)", a.opts.ConflictTimeout))
		}
	}
}

// libError logs the errors the library reports from its polling loop.
func (a *Adapter) libError(err error) {
	switch {
	case errors.Is(err, context.Canceled):
		return
	case strings.Contains(err.Error(), "ctx done"):
		// Shutdown while a batch was being taken: the rest of it was not
		// confirmed, so Telegram delivers it again at the next start.
		a.log.Debug("telegram: stopped polling in the middle of a batch", "err", a.describe(err))
	case errors.Is(err, tgbot.ErrorConflict):
		a.log.Error("telegram: getUpdates refused (409 Conflict): another program is polling with this token or set a webhook; retrying", "err", a.describe(err))
	default:
		a.log.Warn("telegram: polling failed; retrying", "err", a.describe(err))
	}
}
