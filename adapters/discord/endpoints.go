package discord

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// DefaultAPIURL is Discord's REST API, version 9 (the version discordgo
// v0.29 speaks).
const DefaultAPIURL = "https://discord.com/api/v9"

var apiVersion = regexp.MustCompile(`/v([0-9]+)$`)

// checkAPIURL checks an api_url and returns its base (ending in "/") and
// its API version.
func checkAPIURL(s string) (base, version string, err error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("%q is not an http(s) URL, like %q", s, DefaultAPIURL)
	}
	path := strings.TrimRight(u.Path, "/")
	m := apiVersion.FindStringSubmatch(path)
	if m == nil {
		return "", "", fmt.Errorf("%q must end with the API version, like %q", s, DefaultAPIURL)
	}
	u.Path = path + "/"
	return u.String(), m[1], nil
}

// endpointsMu serialises changes to discordgo's endpoint variables.
var endpointsMu sync.Mutex

// useAPI points discordgo at the REST API at base. discordgo computes its
// endpoint strings once, at init, from EndpointDiscord; its request
// functions build URLs from these variables at call time, so every variable
// the adapter reaches (directly or through discordgo's EndpointXxx
// functions) is derived here, in one place. They are process-wide: one
// process talks to one Discord API.
func useAPI(base, version string) {
	endpointsMu.Lock()
	defer endpointsMu.Unlock()
	u, _ := url.Parse(base)
	discordgo.APIVersion = version // also sent to the gateway as ?v=
	discordgo.EndpointDiscord = u.Scheme + "://" + u.Host + "/"
	discordgo.EndpointAPI = base
	discordgo.EndpointGuilds = base + "guilds/"
	discordgo.EndpointChannels = base + "channels/" // messages to a channel
	discordgo.EndpointUsers = base + "users/"       // users/@me, DM channels
	discordgo.EndpointGateway = base + "gateway"    // gateway discovery
	discordgo.EndpointGatewayBot = base + "gateway/bot"
	discordgo.EndpointWebhooks = base + "webhooks/"        // interaction follow-ups and edits
	discordgo.EndpointApplications = base + "applications" // slash commands
	discordgo.EndpointStickers = base + "stickers/"
	discordgo.EndpointStageInstances = base + "stage-instances"
	discordgo.EndpointSKUs = base + "skus"
	discordgo.EndpointVoice = base + "voice/"
	discordgo.EndpointVoiceRegions = base + "voice/regions"
	discordgo.EndpointNitroStickersPacks = base + "sticker-packs"
	discordgo.EndpointGuildCreate = base + "guilds"
	discordgo.EndpointOAuth2 = base + "oauth2/"
	discordgo.EndpointOAuth2Applications = base + "oauth2/applications"
	discordgo.EndpointOauth2 = discordgo.EndpointOAuth2
	discordgo.EndpointOauth2Applications = discordgo.EndpointOAuth2Applications
	// EndpointInteraction (interaction callbacks) reads EndpointAPI when called.
}

// gatewayOverride answers discordgo's gateway discovery (GET /gateway) with
// a configured gateway URL, so that a gateway proxy can be used: discordgo
// keeps the URL it connects to in an unexported field that only that
// request fills.
type gatewayOverride struct {
	base       http.RoundTripper
	endpoint   string // the discovery URL, EndpointGateway
	gatewayURL string
}

func (g gatewayOverride) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet || r.URL.String() != g.endpoint {
		return g.base.RoundTrip(r)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	body := fmt.Sprintf(`{"url":%q}`, g.gatewayURL)
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}
