package bookingsync

import (
	"context"
	"net/http"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModuleVersion(t *testing.T) {
	t.Parallel()
	const other = "example.com/app"
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"a dependency at a release", debug.BuildInfo{
			Main: debug.Module{Path: other, Version: "(devel)"},
			Deps: []*debug.Module{{Path: "golang.org/x/oauth2", Version: "v0.34.0"}, {Path: modulePath, Version: "v0.1.0"}}},
			"v0.1.0"},
		{"a dependency at a commit", debug.BuildInfo{
			Main: debug.Module{Path: other},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.1.1-0.20260101120000-0123456789ab"}}},
			"v0.1.1-0.20260101120000-0123456789ab"},
		{"replaced by another version", debug.BuildInfo{
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.1.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v0.1.2"}}}},
			"v0.1.2"},
		{"replaced by a directory", debug.BuildInfo{
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.1.0", Replace: &debug.Module{Path: "../bookingsync"}}}},
			DevelVersion},
		{"the main module, installed at a version", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.2.0"}}, "v0.2.0"},
		{"the main module, from a working tree", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, DevelVersion},
		{"absent", debug.BuildInfo{Main: debug.Module{Path: other, Version: "v1.0.0"}}, DevelVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, ModuleVersion(&tt.info, modulePath))
		})
	}
}

// The default User-Agent carries the version the build recorded: a test
// binary is built from the working tree, so DevelVersion here; a program
// that requires a release sends "bookingsync-go/v…" (.ci/release-check
// builds one and checks it).
func TestDefaultUserAgentCarriesTheModuleVersion(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("GET /inbox/hosts", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"hosts":[]}`))
	})
	req, err := c.NewRequest(context.Background(), "GET", "inbox/hosts", nil)
	require.NoError(t, err)
	_, err = c.Do(req, nil)
	require.NoError(t, err)
	assert.Equal(t, DevelVersion, Version())
	assert.Equal(t, "bookingsync-go (devel)", srv.requests()[0].Header.Get("User-Agent"))
}
