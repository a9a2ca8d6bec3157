package bookingsync

import (
	"bufio"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the README's coverage table")

// refRoute is one line of testdata/routes.txt.
type refRoute struct{ method, path, page string }

// key is the route with its wildcards unnamed: "GET /hosts/{}".
func (r refRoute) key() string {
	return r.method + " " + unnameWildcards.ReplaceAllString(r.path, "{}")
}

// unnameWildcards matches a path's wildcard, or a list of them as the
// GetMany docs write it ("{id},{id},…").
var unnameWildcards = regexp.MustCompile(`\{[^}]*\}(,\{[^}]*\})*(,…)?`)

// endpointLine matches one endpoint a service method's doc names, on a
// line of its own or in a list ("GET /x/{id} (when …), POST /y").
var endpointLine = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) (/\S*)(\s+\(.*\))?$`)

func readRoutes(t *testing.T) []refRoute {
	t.Helper()
	f, err := os.Open("testdata/routes.txt")
	require.NoError(t, err)
	defer f.Close()
	var out []refRoute
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Fields(sc.Text())
		if len(cols) == 0 || strings.HasPrefix(cols[0], "#") {
			continue
		}
		require.Len(t, cols, 3, sc.Text())
		out = append(out, refRoute{cols[0], cols[1], cols[2]})
	}
	require.NoError(t, sc.Err())
	return out
}

// sdkEndpoints maps each route key to the exported methods whose doc names
// it ("Conversations.List"), read from the package's source.
func sdkEndpoints(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	require.NoError(t, err)
	out := map[string][]string{}
	for _, f := range pkgs["bookingsync"].Files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Doc == nil || !fn.Name.IsExported() {
				continue
			}
			recv := fn.Recv.List[0].Type
			if st, ok := recv.(*ast.StarExpr); ok {
				recv = st.X
			}
			id, ok := recv.(*ast.Ident)
			if !ok || (!strings.HasSuffix(id.Name, "Service") && id.Name != "Client") {
				continue
			}
			name := strings.TrimSuffix(id.Name, "Service") + "." + fn.Name.Name
			for _, line := range strings.Split(fn.Doc.Text(), "\n") {
				for _, part := range strings.Split(line, ", ") {
					m := endpointLine.FindStringSubmatch(strings.TrimSpace(part))
					if m == nil {
						continue
					}
					path, _, _ := strings.Cut(m[2], "?")
					k := refRoute{method: m[1], path: path}.key()
					if !slices.Contains(out[k], name) {
						out[k] = append(out[k], name)
					}
				}
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// fakeAnswers asks the fake for each route, ids written as 1: "501" when
// it does not implement it, "yes" when it does (whatever it answers:
// the record may not exist, the body may be missing).
func fakeAnswers(t *testing.T, routes []refRoute) map[string]string {
	t.Helper()
	srv := bookingsynctest.NewServer(bookingsynctest.WithoutRequestLog(), bookingsynctest.WithRateLimit(1<<20))
	defer srv.Close()
	out := map[string]string{}
	for _, r := range routes {
		req, err := http.NewRequest(r.method, srv.APIURL()+strings.TrimPrefix(unnameWildcards.ReplaceAllString(r.path, "1"), "/"), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.Token())
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		// A 404 here is a missing record, not a missing route:
		// TestEveryReferenceRouteIsAnswered (bookingsynctest) sees to it.
		out[r.key()] = "yes"
		if resp.StatusCode == http.StatusNotImplemented {
			out[r.key()] = "501"
		}
	}
	return out
}

// coverageTable renders the README's section: one row per route of every
// reference page the SDK covers at all, then the pages it does not.
func coverageTable(routes []refRoute, sdk map[string][]string, fake map[string]string) (table string, problems []string) {
	// A page the recordings add ("recorded/rentals") goes with the
	// reference's page of the same resource.
	page := func(r refRoute) string { return strings.TrimPrefix(r.page, "recorded/") }
	covered := map[string]bool{}
	for _, r := range routes {
		if len(sdk[r.key()]) > 0 {
			covered[page(r)] = true
		}
	}
	var b strings.Builder
	b.WriteString("| Endpoint | SDK | Fake |\n|---|---|---|\n")
	var others []string
	counts := map[string]int{}
	for _, r := range routes {
		if !covered[page(r)] {
			if fake[r.key()] != "501" {
				problems = append(problems, r.method+" "+r.path+": the fake serves a route of a page the SDK does not cover")
			}
			if counts[page(r)] == 0 {
				others = append(others, page(r))
			}
			counts[page(r)]++
			continue
		}
		methods := "—"
		if r.key() == "POST /inbox/conversations" {
			methods = "— (refused: the Inbox rules)"
		}
		if m := sdk[r.key()]; len(m) > 0 {
			methods = "`" + strings.Join(m, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s %s` | %s | %s |\n", r.method, r.path, methods, fake[r.key()])
	}
	n := 0
	for _, p := range others {
		n += counts[p]
	}
	fmt.Fprintf(&b, "\nThe %d routes of the other %d pages of the reference (%s) have no SDK method;\nthe fake answers them 501 with a body naming the route.\n",
		n, len(others), strings.Join(others, ", "))
	return b.String(), problems
}

const (
	coverageBegin = "<!-- coverage:begin: generated by TestCoverageTable from testdata/routes.txt; go test -run TestCoverageTable -update -->\n"
	coverageEnd   = "<!-- coverage:end -->"
)

// TestCoverageTable keeps the README's coverage table (endpoint → SDK
// method → fake) equal to what testdata/routes.txt, the services' docs and
// the fake say; -update rewrites it. Every endpoint a method's doc names
// must be a route of the file.
func TestCoverageTable(t *testing.T) {
	t.Parallel()
	routes := readRoutes(t)
	sdk := sdkEndpoints(t)
	known := map[string]bool{}
	for _, r := range routes {
		known[r.key()] = true
	}
	for k, methods := range sdk {
		if !known[k] {
			t.Errorf("%v name %s, which is not in testdata/routes.txt", methods, k)
		}
	}
	table, problems := coverageTable(routes, sdk, fakeAnswers(t, routes))
	for _, p := range problems {
		t.Error(p)
	}

	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	s := string(readme)
	i, j := strings.Index(s, coverageBegin), strings.Index(s, coverageEnd)
	require.True(t, i >= 0 && j > i, "README.md has no coverage section (%q … %q)", coverageBegin, coverageEnd)
	want := s[:i+len(coverageBegin)] + table + s[j:]
	if want == s {
		return
	}
	if *update {
		require.NoError(t, os.WriteFile("README.md", []byte(want), 0o644))
		return
	}
	t.Errorf("the README's coverage table is stale: run go test -run TestCoverageTable -update")
}
