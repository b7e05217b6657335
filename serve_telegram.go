package main

import (
	"context"
	"errors"
	"os"

	"github.com/trustbot/trustbot/adapters/telegram"
	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/storage"
)

// storage implements the Telegram adapter's update log and message log;
// checked here, as neither imports the other.
var (
	_ telegram.UpdateLog  = (*storage.Store)(nil)
	_ telegram.MessageLog = (*storage.Store)(nil)
	_ telegram.Inbox      = (*storage.Store)(nil)
)

func defaultTelegramConfig() TelegramConfig {
	return TelegramConfig{APIURL: telegram.DefaultAPIURL, Mode: string(telegram.ModePolling), Listen: "127.0.0.1:8080", RateLimit: 30}
}

// fromEnv lets TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET override the
// file, so that secrets can stay out of it.
func (t *TelegramConfig) fromEnv() {
	if v := os.Getenv("TELEGRAM_BOT_TOKEN"); v != "" {
		t.Token = v
	}
	if v := os.Getenv("TELEGRAM_WEBHOOK_SECRET"); v != "" {
		t.Secret = v
	}
}

func (t TelegramConfig) options() telegram.Options {
	return telegram.Options{
		Token: t.Token, APIURL: t.APIURL, Mode: telegram.Mode(t.Mode),
		Listen: t.Listen, PublicURL: t.PublicURL, Secret: t.Secret, RateLimit: t.RateLimit,
	}
}

// validate checks the [telegram] table when it is enabled. Its errors name
// the key (telegram.token, ...) and never quote the token or the secret.
func (t TelegramConfig) validate() error {
	if !t.Enabled {
		return nil
	}
	return telegram.Validate(t.options())
}

// startTelegram connects to the Bot API when [telegram] is enabled: getMe,
// the command menu, and deleteWebhook or setWebhook. A bad config or a
// token Telegram rejects is a config error (exit 2); an unreachable API is
// a runtime error (exit 1).
func startTelegram(ctx context.Context, a *app) (platform, bool, error) {
	c := a.cfg.Telegram
	if !c.Enabled {
		return platform{}, false, nil
	}
	o := c.options()
	o.Engine, o.Updates, o.Log, o.Now = a.engine, a.store, a.log, a.engine.Now
	o.Inbox = a.store    // updates are stored before Telegram is told they arrived
	o.Messages = a.store // the ids /wipe deletes; main registers the adapter as the Wiper
	if a.metrics != nil {
		o.Metrics = a.metrics.platform(bot.PlatformTelegram)
		if a.cfg.onWebhook() {
			o.HTTP = a.endpoints(a.cfg.HTTP.Listen != "")
		}
	}
	ad, err := telegram.New(ctx, o)
	var ce *telegram.ConfigError
	switch {
	case errors.As(err, &ce), errors.Is(err, telegram.ErrUnauthorized):
		return platform{}, false, configErrorf("%v", err)
	case err != nil:
		return platform{}, false, err
	}
	a.log.Info("telegram: connected", "bot", "@"+ad.Username(), "mode", o.Mode)
	return platform{name: bot.PlatformTelegram, sender: ad, run: ad.Run}, true, nil
}
