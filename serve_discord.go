package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/trustbot/trustbot/adapters/discord"
	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/storage"
)

// storage implements the Discord adapter's message log; checked here, as
// neither imports the other.
var _ discord.MessageLog = (*storage.Store)(nil)

func defaultDiscordConfig() DiscordConfig {
	return DiscordConfig{APIURL: discord.DefaultAPIURL}
}

// fromEnv lets DISCORD_BOT_TOKEN override the file, so that the token can
// stay out of it.
func (d *DiscordConfig) fromEnv() {
	if v := os.Getenv("DISCORD_BOT_TOKEN"); v != "" {
		d.Token = v
	}
}

func (d DiscordConfig) options() discord.Options {
	return discord.Options{
		Token: d.Token, ApplicationID: d.ApplicationID, GuildID: d.GuildID,
		APIURL: d.APIURL, GatewayURL: d.GatewayURL,
	}
}

// validate checks the [discord] table when it is enabled. Its errors name
// the key (discord.token, ...) and never quote the token.
func (d DiscordConfig) validate() error {
	if !d.Enabled {
		return nil
	}
	if err := d.options().Check(); err != nil {
		return fmt.Errorf("discord.%v", err)
	}
	return nil
}

// startDiscord connects to Discord when [discord] is enabled: it checks the
// token, connects to the gateway and registers the slash commands. A bad
// config or a token Discord refuses is a config error (exit 2); an
// unreachable API is a runtime error (exit 1).
func startDiscord(ctx context.Context, a *app) (platform, bool, error) {
	c := a.cfg.Discord
	if !c.Enabled {
		return platform{}, false, nil
	}
	o := c.options()
	o.Engine, o.Log = a.engine, a.log
	o.Messages = a.store // the ids /wipe deletes; main registers the adapter as the Wiper
	if a.metrics != nil {
		o.Metrics = a.metrics.platform(bot.PlatformDiscord)
	}
	ad, err := discord.Start(ctx, o)
	switch {
	case errors.Is(err, discord.ErrUnauthorized):
		return platform{}, false, configErrorf("discord.token: %v", err)
	case errors.Is(err, discord.ErrConfig):
		return platform{}, false, configErrorf("discord.%v", err) // starts with the key
	case err != nil:
		return platform{}, false, fmt.Errorf("discord: %w", err)
	}
	return platform{name: bot.PlatformDiscord, sender: ad, run: ad.Run}, true, nil
}
