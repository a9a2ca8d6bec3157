package bookingsync

import (
	"runtime/debug"
	"sync"
)

// modulePath is this module's path, as its go.mod declares it.
const modulePath = "github.com/go-bookingsync/bookingsync"

// DevelVersion is what Version reports when the build recorded no version
// of this module: a build from a working tree (this repository, a go.work,
// a replace by a directory) or a binary without module information.
const DevelVersion = "(devel)"

// Version reports the version of this module in the running program, as
// the go command recorded it (runtime/debug.ReadBuildInfo): "v0.1.0" in a
// program whose go.mod requires that release, a pseudo-version for a
// commit, or DevelVersion. The client's default User-Agent carries it.
func Version() string { return buildVersion() }

var buildVersion = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return DevelVersion
	}
	return ModuleVersion(info, modulePath)
})

// ModuleVersion reports the version of the module path in the build
// described by info: the main module's or a dependency's, the version of
// its replacement when it was replaced by another version, and
// DevelVersion when the build has it without a version (a working tree,
// a replacement by a directory) or does not have it.
func ModuleVersion(info *debug.BuildInfo, path string) string {
	m := &info.Main
	if m.Path != path {
		m = nil
		for _, dep := range info.Deps {
			if dep.Path == path {
				m = dep
				break
			}
		}
	}
	if m != nil && m.Replace != nil {
		m = m.Replace
	}
	if m == nil || m.Version == "" {
		return DevelVersion
	}
	return m.Version
}

// defaultUserAgent is DefaultUserAgent with the module's version,
// "bookingsync-go/v0.1.0", or "bookingsync-go (devel)" where the build
// recorded none (a parenthesised comment: "(devel)" is no valid product
// version).
func defaultUserAgent() string {
	if v := Version(); v != DevelVersion {
		return DefaultUserAgent + "/" + v
	}
	return DefaultUserAgent + " " + DevelVersion
}
