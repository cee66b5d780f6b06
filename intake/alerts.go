package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/alert"
)

// alertsConfig is the [alerts] section: how the team is told, with fixed
// text and nothing else, that something waits for them (internal/alert).
type alertsConfig struct {
	// SMTP is "smtps://host[:port]" or "smtp://host[:port]" (STARTTLS
	// required unless the host is loopback).
	SMTP     string `toml:"smtp"`
	Username string `toml:"username"`
	// PasswordFile holds the password alone. Without it, a username's
	// password comes from the systemd credential smtp-password.
	PasswordFile string   `toml:"password_file"`
	From         string   `toml:"from"`
	To           []string `toml:"to"`
	// Every is the batching window for ordinary activity (default "1h").
	Every   string `toml:"every"`
	Webhook string `toml:"webhook"`
	// Sockets maps the mail server's or a webhook's "host:port" to a unix
	// socket that leads there, for a server without a network of its own
	// (the systemd unit's PrivateNetwork=yes; deploy/README.md, "Alerts").
	Sockets map[string]string `toml:"sockets"`

	every    time.Duration
	password alert.Password
	// passwordLater is set when the password is to come from a systemd
	// credential that this process cannot see (intake check from a shell),
	// passwordFailed when reading it failed (and that was reported).
	passwordLater, passwordFailed bool
}

// smtpCredential is the systemd credential that holds the SMTP password:
// LoadCredential=smtp-password:/etc/hearken/smtp-password.
const smtpCredential = "smtp-password"

// minEvery keeps a typo ("1" for "1h") from mailing the team every
// millisecond; tests use a second.
const minEvery = time.Second

// loadAlerts parses [alerts] and reads its password, relative paths taken
// from dir. It returns the problems found.
func (c *config) loadAlerts(dir string) []string {
	a := c.Alerts
	if a == nil {
		return nil
	}
	var p []string
	a.every = alert.DefaultEvery
	if a.Every != "" {
		d, err := time.ParseDuration(a.Every)
		switch {
		case err != nil:
			p = append(p, fmt.Sprintf(`alerts: every: %q is not a duration such as "1h" or "30m"`, a.Every))
		case d < minEvery:
			p = append(p, fmt.Sprintf("alerts: every must be at least %v", minEvery))
		default:
			a.every = d
		}
	}
	switch {
	case a.PasswordFile != "":
		path := a.PasswordFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		pw, err := alert.ReadPasswordFile(path)
		if err != nil {
			p = append(p, "alerts: password_file: "+err.Error())
			a.passwordFailed = true
		}
		a.password = pw
	case a.Username != "":
		creds := os.Getenv("CREDENTIALS_DIRECTORY")
		if creds == "" {
			a.passwordLater = true
			break
		}
		pw, err := alert.ReadPasswordFile(filepath.Join(creds, smtpCredential))
		if err != nil {
			p = append(p, fmt.Sprintf("alerts: no password_file, so the password comes from the systemd credential %s: %v", smtpCredential, err))
			a.passwordFailed = true
		}
		a.password = pw
	}
	return p
}

// validateAlerts checks [alerts] and the routes' own recipients.
func (c *config) validateAlerts() []string {
	var p []string
	if c.Alerts == nil {
		for i, rt := range c.Routes {
			if len(rt.To) > 0 || rt.Webhook != "" {
				p = append(p, fmt.Sprintf("routes[%d]: to and webhook need an [alerts] section with at least smtp and from", i+1))
			}
		}
		return p
	}
	a := c.Alerts
	if a.PasswordFile != "" && a.Username == "" {
		p = append(p, "alerts: password_file needs a username")
	}
	defaultOK := len(a.To) > 0 || a.Webhook != ""
	unalerted := false
	for i, rt := range c.Routes {
		if !defaultOK && len(rt.To) == 0 && rt.Webhook == "" {
			p = append(p, fmt.Sprintf("routes[%d] (%s): nobody would be alerted: set to in [alerts], or to for this route", i+1, rt.Name))
			unalerted = true
		}
	}
	ac := c.alertConfig(zerolog.Nop())
	if a.passwordLater || a.passwordFailed {
		// Stand in for a password this process could not read, so the
		// rest is still checked without a second complaint about it.
		ac.Password = alert.NewPassword("unchecked")
	}
	if err := ac.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if unalerted && strings.HasPrefix(line, "no recipients") {
				continue // said above, route by route
			}
			p = append(p, "alerts: "+line)
		}
	}
	return p
}

// alertConfig turns the deployment's config into the alerter's. A route
// with recipients of its own alerts only them.
func (c *config) alertConfig(log zerolog.Logger) alert.Config {
	a := c.Alerts
	ac := alert.Config{
		SMTP:     a.SMTP,
		Username: a.Username,
		Password: a.password,
		From:     a.From,
		Default:  alert.Recipients{To: a.To, Webhook: a.Webhook},
		School:   c.School,
		Every:    a.every,
		Sockets:  a.Sockets,
		Log:      log,
	}
	for _, rt := range c.Routes {
		if len(rt.To) > 0 || rt.Webhook != "" {
			if ac.Routes == nil {
				ac.Routes = map[string]alert.Recipients{}
			}
			ac.Routes[rt.Name] = alert.Recipients{To: rt.To, Webhook: rt.Webhook}
		}
	}
	return ac
}

// demoAlertsEvery is the demo's batching window: short, so a newcomer sees
// an activity alert in the log within a couple of minutes.
const demoAlertsEvery = time.Minute

// newAlerter starts the alerts cfg asks for: none, mail and webhooks, or
// for the demo, lines in the log.
func newAlerter(cfg *config, lg zerolog.Logger) (*alert.Dispatcher, error) {
	switch {
	case cfg.demoAlerts:
		lg.Info().Msg("alerts go to this log in the demo: danger at once, other activity within two minutes")
		return alert.New(alert.Config{LogOnly: true, School: cfg.School, Every: demoAlertsEvery, Log: lg})
	case cfg.Alerts == nil:
		lg.Info().Msg("no [alerts] in the config: the team learns of reports when they run reviewer sync")
		return nil, nil
	case cfg.Alerts.passwordLater:
		return nil, errNoPassword
	}
	return alert.New(cfg.alertConfig(lg))
}

// alertsSummary describes the alerts for `intake check`.
func (c *config) alertsSummary() []string {
	a := c.Alerts
	if a == nil {
		return []string{"note: no [alerts]: the team learns of new reports only when they run reviewer sync"}
	}
	var out []string
	var how []string
	if len(a.To) > 0 {
		how = append(how, fmt.Sprintf("mail to %d address(es)", len(a.To)))
	}
	if a.Webhook != "" {
		how = append(how, "a webhook")
	}
	if len(how) > 0 {
		out = append(out, fmt.Sprintf("alerts: %s; other activity at most once every %v, danger at once", strings.Join(how, " and "), a.every))
	}
	for _, rt := range c.Routes {
		if len(rt.To) > 0 || rt.Webhook != "" {
			out = append(out, fmt.Sprintf("alerts: route %s alerts only its own recipients", rt.Name))
		}
	}
	ac := c.alertConfig(zerolog.Nop())
	for _, n := range ac.Notes() {
		out = append(out, "note: "+n)
	}
	if a.passwordLater {
		out = append(out, fmt.Sprintf("note: the SMTP password will come from the systemd credential %s, which is not visible here, so it was not checked", smtpCredential))
	}
	if a.every < 10*time.Minute {
		out = append(out, fmt.Sprintf("note: every = %q: alerts may come that often; an hour is usual", a.Every))
	}
	return out
}

// teamHours returns the sentence the danger receipt shows about when the
// team reads messages: the config's for lang, or the locale's default.
func (c *config) teamHours(lang string) string {
	if s := c.TeamHours[lang]; s != "" {
		return s
	}
	return locales[lang].T("team_hours")
}

// validateTeamHours checks [team_hours].
func (c *config) validateTeamHours() []string {
	var p []string
	for lang, s := range c.TeamHours {
		if !c.languageEnabled(lang) {
			p = append(p, fmt.Sprintf("team_hours.%s: language is not in languages", lang))
		}
		if strings.TrimSpace(s) == "" || len(s) > 300 {
			p = append(p, fmt.Sprintf("team_hours.%s: give one sentence of up to 300 bytes", lang))
		}
	}
	return p
}

var (
	errNoAlerts   = errors.New("the config has no [alerts] section: there is nothing to test")
	errNoPassword = fmt.Errorf("alerts: a username but no password: no password_file, and no systemd credential %s", smtpCredential)
)

// alertTestTimeout bounds `intake alert-test`: every destination's
// connection and session timeouts, with room to spare.
const alertTestTimeout = 3 * time.Minute

// alertTest sends the test alert to every destination in cfg's [alerts]
// at once, and says which failed and how.
func alertTest(ctx context.Context, cfg *config, out io.Writer) error {
	if cfg.Alerts == nil {
		return errNoAlerts
	}
	d, err := newAlerter(cfg, zerolog.Nop())
	if err != nil {
		return err
	}
	defer d.Shutdown(context.Background())
	if err := d.SendTest(ctx); err != nil {
		return fmt.Errorf("the test alert did not reach every destination:\n%w", err)
	}
	fmt.Fprintln(out, "test alert sent to every destination; check that each one arrived")
	return nil
}
