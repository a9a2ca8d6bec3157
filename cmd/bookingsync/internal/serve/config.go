package serve

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"time"
)

// Config is what serve needs; the command fills it from flags and the
// environment, and Check refuses a configuration that cannot run safely.
type Config struct {
	// DB is the store's DSN: "sqlite:/path/inbox.db" or "postgres://…".
	DB string
	// Listen is the HTTP listen address, HOST:PORT.
	Listen string
	// PublicURL is where people and BookingSync reach this service; the
	// OAuth redirect URI is PublicURL + "/oauth/callback" and the webhook
	// URL to register PublicURL + "/webhooks". An https URL makes the
	// cookies Secure. Run defaults it to http:// and the address it
	// listens on.
	PublicURL string
	// BaseURL is the BookingSync site root (default the real site).
	BaseURL string
	// ClientID and ClientSecret are the application's OAuth credentials.
	ClientID, ClientSecret string
	// WebhookSecret signs the webhook deliveries (default ClientSecret).
	WebhookSecret string
	// SessionKey signs the session and sign-in cookies and the CSRF
	// tokens: at least 32 random bytes, the same on every replica.
	SessionKey string
	// SealKey, if set, seals the tokens in the database (AES-GCM): 16,
	// 24 or 32 bytes, hex or base64, the same on every replica.
	SealKey string
	// Every is the period of each account's sync passes (default 5m).
	Every time.Duration
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// ShutdownTimeout bounds a clean stop: requests in flight get this
	// long to finish before the fleet releases its leases (default 10s).
	ShutdownTimeout time.Duration
	// Replica names this replica in the database (default: the fleet's).
	Replica string
	// Logger receives the structured logs (default: JSON on stderr).
	Logger *slog.Logger
}

// minKeyBits is the entropy a session key must show: a random 32-byte
// key has about 240 bits hex-encoded, 200 base64-encoded; a word or a
// short alphabet repeated has far less.
const minKeyBits = 160

// Check reports, as one line naming the setting, why the configuration
// cannot run: a required secret missing or weak, a malformed URL.
func (c *Config) Check() error {
	switch {
	case c.ClientID == "":
		return errors.New("BOOKINGSYNC_CLIENT_ID is not set: give the application's OAuth client id")
	case c.ClientSecret == "":
		return errors.New("BOOKINGSYNC_CLIENT_SECRET is not set: give the application's OAuth client secret")
	case c.SessionKey == "":
		return errors.New("BOOKINGSYNC_SESSION_KEY is not set: give at least 32 random bytes, e.g. the output of `openssl rand -hex 32`")
	case len(c.SessionKey) < 32 || keyBits(c.SessionKey) < minKeyBits || periodic(c.SessionKey):
		return errors.New("BOOKINGSYNC_SESSION_KEY is too weak: give at least 32 random bytes, e.g. the output of `openssl rand -hex 32`")
	case c.DB == "":
		return errors.New("--db is not set: give sqlite:/path/inbox.db or a postgres:// DSN")
	}
	if _, err := c.sealKey(); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if _, err := c.public(); err != nil {
			return err
		}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("BOOKINGSYNC_BASE_URL is not an http(s) URL")
		}
	}
	return nil
}

// public parses PublicURL: an absolute http(s) URL, no query, no
// fragment, the trailing slash dropped.
func (c *Config) public() (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(c.PublicURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--public-url %q is not an absolute http(s) URL without query", c.PublicURL)
	}
	return u, nil
}

// sealKey decodes SealKey (hex or base64) to an AES key; nil when unset.
func (c *Config) sealKey() ([]byte, error) {
	if c.SealKey == "" {
		return nil, nil
	}
	k, err := hex.DecodeString(c.SealKey)
	if err != nil {
		k, err = base64.StdEncoding.DecodeString(c.SealKey)
	}
	if err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
		return nil, errors.New("BOOKINGSYNC_SEAL_KEY must be 16, 24 or 32 bytes, hex or base64 (e.g. `openssl rand -hex 32`)")
	}
	return k, nil
}

// keyBits estimates a key's entropy from its own bytes: its length times
// the Shannon entropy of their distribution. It cannot see that a key was
// chosen badly, only that it looks like it was.
func keyBits(key string) float64 {
	var counts [256]int
	for i := 0; i < len(key); i++ {
		counts[key[i]]++
	}
	n := float64(len(key))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h * n
}

// periodic reports whether key is a shorter string repeated.
func periodic(key string) bool {
	for p := 1; p <= len(key)/2; p++ {
		if key[p:] == key[:len(key)-p] {
			return true
		}
	}
	return false
}

// defaults fills what was left unset.
func (c *Config) defaults() {
	if c.WebhookSecret == "" {
		c.WebhookSecret = c.ClientSecret
	}
	if c.Every <= 0 {
		c.Every = 5 * time.Minute
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
}
