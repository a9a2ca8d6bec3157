package bookingsync

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeGoVersions: the README's table of the Go each module needs
// says what the go line of each go.mod of go.work says.
func TestReadmeGoVersions(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	claimed := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)`[^|]*\\| ([0-9.]+) or newer \\|$").FindAllStringSubmatch(string(readme), -1) {
		claimed[m[1]] = m[2]
	}
	work, err := os.ReadFile("go.work")
	require.NoError(t, err)
	dirs := regexp.MustCompile(`(?m)^\s+(\./?\S*)$`).FindAllStringSubmatch(string(work), -1)
	require.NotEmpty(t, dirs, "go.work names no module")
	for _, d := range dirs {
		dir := filepath.Clean(d[1])
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		require.NoError(t, err)
		m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(mod))
		require.NotNil(t, m, "%s/go.mod has no go line", dir)
		assert.Equal(t, m[1], claimed[strings.TrimPrefix(dir, "./")], "the README's Go for module %q", dir)
	}
}
