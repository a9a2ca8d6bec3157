package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A person's afternoon with `bookingsync serve`, in Chromium, against the
// built binary, the standalone fake with two accounts and a real
// database: sign in as each account, read the inbox, open a thread,
// reply and see it reach the fake, see a guest's new message (posted to
// the fake, delivered by its webhook) appear without a reload, try the
// other account's conversation and get nothing.
func TestInboxInABrowser(t *testing.T) {
	needBrowser(t)
	t.Run("sqlite", func(t *testing.T) {
		afternoon(t, "sqlite:"+filepath.Join(t.TempDir(), "inbox.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		afternoon(t, postgresDB(t))
	})
}

// postgresDB creates a database of its own on BOOKINGSYNC_TEST_POSTGRES
// (skipping without it, failing with BOOKINGSYNC_REQUIRE_POSTGRES=1) and
// returns its DSN.
func postgresDB(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("BOOKINGSYNC_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("BOOKINGSYNC_REQUIRE_POSTGRES") == "1" {
			t.Fatal("BOOKINGSYNC_REQUIRE_POSTGRES=1 but BOOKINGSYNC_TEST_POSTGRES is not set")
		}
		t.Skip("set BOOKINGSYNC_TEST_POSTGRES=postgres://… to run on Postgres too")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "e2e_" + hex.EncodeToString(b)
	psql := func(sql string) {
		if out, err := exec.Command("psql", admin, "-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput(); err != nil {
			t.Fatalf("psql %q: %v\n%s", sql, err, out)
		}
	}
	psql("CREATE DATABASE " + name)
	t.Cleanup(func() { psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func afternoon(t *testing.T, dsn string) {
	shots := filepath.Join(artifacts(t), strings.SplitN(dsn, ":", 2)[0])
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	serveAddr := freeAddr(t)
	serveURL := "http://" + serveAddr

	fake := startProc(t, nil, "fake", "--addr", "127.0.0.1:0", "--accounts", "2", "--conversation-delay", "0",
		"--redirect-uri", serveURL+"/oauth/callback", "--webhook-url", serveURL+"/webhooks")
	base := strings.TrimPrefix(fake.line(), "listening on ")
	api := &fakeAPI{base: base, tokens: map[int64]string{1: strings.TrimPrefix(fake.line(), "token ")}}
	var second int64
	var token2 string
	if _, err := fmt.Sscanf(fake.line(), "account %d token %s", &second, &token2); err != nil || second != 2 {
		t.Fatalf("the fake's third line: %v", err)
	}
	api.tokens[2] = token2

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	srv := startProc(t, []string{
		"BOOKINGSYNC_BASE_URL=" + base,
		"BOOKINGSYNC_CLIENT_ID=bookingsynctest-client",
		"BOOKINGSYNC_CLIENT_SECRET=bookingsynctest-secret",
		"BOOKINGSYNC_SESSION_KEY=" + hex.EncodeToString(key),
	}, "serve", "--db", dsn, "--listen", serveAddr, "--every", "1h", "--log-level", "debug")
	if l := srv.line(); l != "listening on "+serveURL {
		t.Fatalf("serve says %q", l)
	}

	browser := newBrowser(t)
	tabs := map[int64]context.Context{}
	for _, acct := range []int64{1, 2} {
		tab := newTab(t, browser)
		tabs[acct] = tab
		button := chromedp.CSS(fmt.Sprintf(`button[name="account_id"][value="%d"]`, acct))
		// Not signed in: / leads to /login, then to the fake's sign-in page.
		run(t, tab, "open the inbox", chromedp.Navigate(serveURL+"/"), chromedp.WaitVisible(button))
		if acct == 1 {
			screenshot(t, tab, shots, "1-sign-in")
		}
		from := srv.logCount()
		run(t, tab, "approve", chromedp.Click(button), chromedp.WaitVisible(chromedp.CSS("#main h1")))
		loc, err := chromedp.Run(tab, chromedp.Location())
		if err != nil || loc != serveURL+"/" {
			t.Fatalf("signed in to %q (%v)", loc, err)
		}
		// The fleet takes the new account and makes its first pass; the
		// open page fills without a reload.
		srv.waitLog(fmt.Sprintf("account %d's first pass", acct), from, func(m map[string]any) bool {
			return m["msg"] == "inboxsync: pass" && m["account"] == float64(acct)
		})
		row := chromedp.CSS(fmt.Sprintf(`[data-conversation-id="%d"]`, seeded(acct, airbnbConversation)))
		run(t, tab, "the inbox fills", chromedp.WaitVisible(row),
			until(`document.querySelector('[data-conversation-id="`+itoa(seeded(acct, airbnbConversation))+`"]').textContent.includes("Ocean View Loft")`),
			until(`document.querySelector('[data-conversation-id="`+itoa(seeded(acct, airbnbConversation))+`"]').textContent.includes("Emma Dubois")`))
		text, err := chromedp.Run(tab, chromedp.Text(row))
		if err != nil || !strings.Contains(text, "Emma Dubois") || !strings.Contains(text, "Awaiting reply") {
			t.Errorf("account %d's Airbnb row reads %q (%v)", acct, text, err)
		}
		rows, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-conversation-id]')].map(e => e.dataset.conversationId)`))
		for _, id := range rows {
			if (acct == 1) != (len(id) < 8) { // account 2's ids are 10,000,000 up
				t.Errorf("account %d's inbox shows conversation %s", acct, id)
			}
		}

		// What reading costs the API: the fake's budget, looked at before
		// and after, moves by the looks alone.
		before := api.remaining(t, acct)
		run(t, tab, "read the inbox and a thread", chromedp.Navigate(serveURL+"/"), chromedp.WaitVisible(row),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-conversation-id="%d"] a`, seeded(acct, airbnbConversation)))),
			chromedp.WaitVisible(chromedp.CSS(`[data-message-id]`)), chromedp.WaitVisible(chromedp.CSS(`textarea[name="content"]`)))
		if cost := before - api.remaining(t, acct) - 1; cost != 0 {
			t.Errorf("two signed-in page views cost account %d's API %d requests, want 0", acct, cost)
		} else {
			t.Logf("account %d: two signed-in page views (inbox, thread) cost the API 0 requests", acct)
		}
		if acct == 2 {
			run(t, tab, "back to the inbox", chromedp.Navigate(serveURL+"/"), chromedp.WaitVisible(row))
			screenshot(t, tab, shots, "2-inbox")
			run(t, tab, "open the thread", chromedp.Navigate(serveURL+"/conversations/"+itoa(seeded(2, airbnbConversation))),
				chromedp.WaitVisible(chromedp.CSS(`[data-message-id]`)))
			screenshot(t, tab, shots, "3-thread")
		}
	}

	// Reply as account 2: queued in the outbox (shown with its state until
	// its message is in the copy: often too short a time to see here),
	// sent by the fleet to the fake, and back into the thread through the
	// webhook, without a reload.
	tab := tabs[2]
	reply := "The pool is heated from May to October."
	run(t, tab, "reply", chromedp.SendKeys(chromedp.CSS(`textarea[name="content"]`), reply),
		chromedp.Click(chromedp.CSS(`form.reply button[type="submit"]`)))
	waitLocation(t, tab, "?reply=")
	run(t, tab, "the reply is sent and shows in the thread, in place of its outbox item",
		until(hasMessageText(reply)), until(`document.querySelector('[data-outbox-key]') === null`))
	if !api.messageSent(t, 2, reply) {
		t.Fatal("the reply did not reach the fake")
	}
	screenshot(t, tab, shots, "4-replied")

	// A guest writes at the fake; the fake's webhook reaches serve; the
	// open page shows the message without a reload.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[int](`window.e2eMark = 7`)); err != nil {
		t.Fatal(err)
	}
	guest := `Is there a cot? <b>Thanks!</b>`
	start := time.Now()
	id := api.guestWrites(t, 2, guest)
	msg := chromedp.CSS(fmt.Sprintf(`[data-message-id="%d"]`, id))
	run(t, tab, "the guest's message appears", chromedp.WaitVisible(msg))
	took := time.Since(start)
	t.Logf("a guest's message at the fake showed in the open page %v later", took.Round(time.Millisecond))
	if mark, err := chromedp.Run(tab, chromedp.Evaluate[int](`window.e2eMark || 0`)); err != nil || mark != 7 {
		t.Errorf("the page was reloaded (mark %d, %v)", mark, err)
	}
	if text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(fmt.Sprintf(`[data-message-id="%d"] .content`, id)))); err != nil || text != guest {
		t.Errorf("the guest's message reads %q, want the text %q", text, guest)
	}
	screenshot(t, tab, shots, "5-guest-live")

	// On a phone.
	run(t, tab, "a phone's screen", chromedp.EmulateViewport(390, 844), chromedp.Navigate(serveURL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-conversation-id]`)))
	screenshot(t, tab, shots, "6-inbox-phone")

	// Each account, naming the other's conversation, gets nothing.
	for acct, other := range map[int64]int64{1: 2, 2: 1} {
		run(t, tabs[acct], "the other account's conversation",
			chromedp.Navigate(fmt.Sprintf("%s/conversations/%d", serveURL, seeded(other, airbnbConversation))),
			chromedp.WaitVisible(chromedp.CSS("h1")))
		h1, _ := chromedp.Run(tabs[acct], chromedp.Text(chromedp.CSS("h1")))
		n, _ := chromedp.Run(tabs[acct], chromedp.Evaluate[int](`document.querySelectorAll('[data-message-id], textarea').length`))
		if h1 != "Not Found" || n != 0 {
			t.Errorf("account %d sees account %d's conversation: %q, %d messages or forms", acct, other, h1, n)
		}
		if acct == 1 {
			screenshot(t, tabs[acct], shots, "7-other-account")
		}
	}

	// Signing out.
	run(t, tabs[1], "sign out", chromedp.Navigate(serveURL+"/"), chromedp.Click(chromedp.CSS(`form.logout button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)))
	for _, secret := range []string{api.tokens[1], api.tokens[2], "bookingsynctest-secret", hex.EncodeToString(key)} {
		if strings.Contains(srv.stderr(), secret) {
			t.Error("a secret is in serve's log")
		}
	}
}

// hasMessageText is a page predicate: a message of the thread reads text.
func hasMessageText(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('[data-message-id] .content')].some(e => e.textContent === %q)`, text)
}

func itoa(n int64) string { return fmt.Sprint(n) }
