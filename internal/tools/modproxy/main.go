// Command modproxy writes a Go module proxy on disk (the GOPROXY protocol as
// files: <module>/@v/list, <version>.info, .mod and .zip) holding modules of
// this repository at the versions a release would tag, so that the release
// check can fetch them exactly as a user's go command would, with GOWORK=off
// and GOPROXY=file://<dir>.
//
// Usage:
//
//	modproxy -o DIR [-rev REV] MODDIR@VERSION...
//
// MODDIR is a module's directory relative to the repository's root ("." for
// the root). Without -rev the files are those of the working tree that
// `git add -A` would commit (tracked and untracked, minus what .gitignore
// names): the module as the next commit and its tag would serve it. With
// -rev (a tag or commit) they are that revision's: an earlier release, for
// apidiff. Either way the files come from `git archive`, as the go command
// takes them from a repository, and the zip is made by golang.org/x/mod/zip,
// which leaves out nested modules, vendor directories and irregular files
// as the go command does. A nested module without a LICENSE gets the root's,
// as the go command gives it.
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	out := flag.String("o", "", "the proxy `directory` to write (created if missing)")
	rev := flag.String("rev", "", "take the modules from this git `revision` instead of the working tree")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: modproxy -o DIR [-rev REV] MODDIR@VERSION...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *rev, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
}

func run(out, rev string, args []string) error {
	root, err := git("", nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	repo := &repo{root: strings.TrimSpace(string(root))}
	tree, when, err := repo.snapshot(rev)
	if err != nil {
		return err
	}
	for _, arg := range args {
		dir, version, ok := strings.Cut(arg, "@")
		if !ok {
			return fmt.Errorf("%q: want MODDIR@VERSION", arg)
		}
		modPath, err := repo.publish(out, tree, when, path.Clean(dir), version)
		if err != nil {
			return fmt.Errorf("%s@%s: %w", dir, version, err)
		}
		fmt.Printf("%s@%s\n", modPath, version)
	}
	return nil
}

// repo is the git repository the modules come from.
type repo struct{ root string }

// snapshot returns the tree to take files from and the time to give the
// versions: rev's tree and commit time, or, with rev empty, a tree of the
// working tree as `git add -A` would stage it (written through a scratch
// index, so the repository's own index is left alone) and the time now.
func (r *repo) snapshot(rev string) (tree string, when time.Time, err error) {
	if rev != "" {
		t, err := git(r.root, nil, "rev-parse", "--verify", rev+"^{tree}")
		if err != nil {
			return "", time.Time{}, err
		}
		ct, err := git(r.root, nil, "log", "-1", "--format=%cI", rev)
		if err != nil {
			return "", time.Time{}, err
		}
		when, err := time.Parse(time.RFC3339, strings.TrimSpace(string(ct)))
		return strings.TrimSpace(string(t)), when.UTC(), err
	}
	index, err := os.CreateTemp("", "modproxy-index")
	if err != nil {
		return "", time.Time{}, err
	}
	index.Close()
	defer os.Remove(index.Name())
	env := []string{"GIT_INDEX_FILE=" + index.Name()}
	if _, err := git(r.root, env, "read-tree", "HEAD"); err != nil {
		return "", time.Time{}, err
	}
	if _, err := git(r.root, env, "add", "-A"); err != nil {
		return "", time.Time{}, err
	}
	t, err := git(r.root, env, "write-tree")
	return strings.TrimSpace(string(t)), time.Now().UTC().Truncate(time.Second), err
}

// publish writes the module in dir of tree at version into the proxy out
// and returns its module path.
func (r *repo) publish(out, tree string, when time.Time, dir, version string) (string, error) {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return "", fmt.Errorf("version %q is not a canonical semantic version", version)
	}
	files, err := r.files(tree, dir)
	if err != nil {
		return "", err
	}
	gomod, ok := files["go.mod"]
	if !ok {
		return "", errors.New("no go.mod")
	}
	modPath := modfile.ModulePath(gomod.data)
	if modPath == "" {
		return "", errors.New("go.mod names no module")
	}
	mv := module.Version{Path: modPath, Version: version}
	escaped, err := module.EscapePath(modPath)
	if err != nil {
		return "", err
	}
	vdir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return "", err
	}

	var zipped bytes.Buffer
	list := make([]modzip.File, 0, len(files))
	for _, name := range slices.Sorted(maps.Keys(files)) {
		list = append(list, files[name])
	}
	if err := modzip.Create(&zipped, mv, list); err != nil {
		return "", err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, when})
	if err != nil {
		return "", err
	}
	for ext, data := range map[string][]byte{".zip": zipped.Bytes(), ".mod": gomod.data, ".info": info} {
		if err := os.WriteFile(filepath.Join(vdir, version+ext), data, 0o644); err != nil {
			return "", err
		}
	}
	return modPath, addToList(filepath.Join(vdir, "list"), version)
}

// files returns the files of dir in tree, by their path relative to dir,
// with the root's LICENSE when dir has none.
func (r *repo) files(tree, dir string) (map[string]file, error) {
	args := []string{"-c", "core.autocrlf=input", "-c", "core.eol=lf", "archive", "--format=tar", tree}
	prefix := ""
	if dir != "." {
		args = append(args, "--", dir)
		prefix = dir + "/"
	}
	archive, err := git(r.root, nil, args...)
	if err != nil {
		return nil, err
	}
	files := map[string]file{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name, ok := strings.CutPrefix(hdr.Name, prefix)
		if !ok || name == "" || hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files[name] = file{name: name, mode: hdr.FileInfo().Mode(), data: data}
	}
	if _, ok := files["LICENSE"]; !ok && dir != "." {
		if data, err := git(r.root, nil, "cat-file", "blob", tree+":LICENSE"); err == nil {
			files["LICENSE"] = file{name: "LICENSE", mode: 0o644, data: data}
		}
	}
	return files, nil
}

// addToList adds version to the proxy's list file, in semver order.
func addToList(name, version string) error {
	data, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(data))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	semver.Sort(versions)
	return os.WriteFile(name, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// git runs git in dir with env added and returns its standard output.
func git(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// file is one file of a module, held in memory (modzip.File).
type file struct {
	name string
	mode os.FileMode
	data []byte
}

func (f file) Path() string                 { return f.name }
func (f file) Lstat() (os.FileInfo, error)  { return fileInfo{f}, nil }
func (f file) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type fileInfo struct{ f file }

func (fi fileInfo) Name() string       { return path.Base(fi.f.name) }
func (fi fileInfo) Size() int64        { return int64(len(fi.f.data)) }
func (fi fileInfo) Mode() os.FileMode  { return fi.f.mode }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return false }
func (fi fileInfo) Sys() any           { return nil }
