// Package e2e holds the browser tests of `bookingsync serve`: they build
// the command, start the standalone fake and serve on a real database,
// and drive Chromium through the DevTools protocol (chromedp), as a
// person would. It is a module of its own so that chromedp is a
// dependency of these tests only.
package e2e
