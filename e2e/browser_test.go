package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is the browser's path, "" when none is installed.
var chromium string

// skipReason says how to run the tests when no browser is installed.
const skipReason = "browser tests skipped: no chromium on PATH (apt-get install chromium, or set BOOKINGSYNC_CHROMIUM to a Chrome binary); .ci/run installs it and sets BOOKINGSYNC_REQUIRE_BROWSER=1"

func TestMain(m *testing.M) {
	chromium = os.Getenv("BOOKINGSYNC_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if chromium == "" {
			chromium, _ = exec.LookPath(name)
		}
	}
	if chromium == "" {
		// One line, whatever the number of tests; needBrowser fails them
		// instead when the browser is required.
		fmt.Println(skipReason)
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "bookingsync-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := buildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needBrowser skips the test without a browser, or fails it when
// BOOKINGSYNC_REQUIRE_BROWSER=1 (CI).
func needBrowser(t *testing.T) {
	t.Helper()
	if chromium != "" {
		return
	}
	if os.Getenv("BOOKINGSYNC_REQUIRE_BROWSER") == "1" {
		t.Fatal("BOOKINGSYNC_REQUIRE_BROWSER=1 but no chromium on PATH")
	}
	t.Skip(skipReason)
}

// newBrowser starts a headless Chromium with a fresh profile, for the
// test; tabs are opened with newTab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return ctx
}

// newTab opens a tab in a browser context of its own: its own cookies,
// as another person's browser.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab now, with the tab's own context: a tab opened by the
	// first action would live only as long as that action's (bounded)
	// context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx
}

// run runs steps in the tab with a bound.
func run(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// artifacts is where screenshots go: $BOOKINGSYNC_E2E_ARTIFACTS, else a
// directory of the test.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BOOKINGSYNC_E2E_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the tab's whole page as dir/name.png.
func screenshot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// until waits, as a step, for a page predicate (a JavaScript expression)
// to hold.
func until(predicate string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](predicate)(ctx, t)
		return err
	})
}

// waitLocation waits until the tab's URL holds part: a navigation a
// click started has committed (a query of the page meanwhile may meet
// the old document going away, and is tried again).
func waitLocation(t *testing.T, tab context.Context, part string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		loc, err := chromedp.Run(tab, chromedp.Location())
		if err == nil && strings.Contains(loc, part) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page is at %q (%v), not at a URL with %q", loc, err, part)
		}
		time.Sleep(50 * time.Millisecond) // a poll: the browser navigates on its own and says nothing
	}
}
