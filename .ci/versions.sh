# Sourced by .ci/release-check and .ci/set-versions, at the repository's
# root, after a fail function: the modules a release tags, read from
# .ci/next-versions, and the go.mod and go.work lines that name them.

repo=github.com/go-bookingsync/bookingsync

# dirs: the modules' directories in file order; next[DIR]: the version its
# next tag carries; path_of[DIR]: its module path; dir_of[PATH]: DIR.
dirs=()
declare -A next path_of dir_of
while read -r dir version; do
	case "$dir" in '' | '#'*) continue ;; esac
	[ -f "$dir/go.mod" ] || fail ".ci/next-versions: $dir has no go.mod"
	p=$(awk '$1 == "module" { print $2; exit }' "$dir/go.mod")
	dirs+=("$dir")
	next[$dir]=$version
	path_of[$dir]=$p
	dir_of[$p]=$dir
done <.ci/next-versions

# tag DIR VERSION: the git tag of a version of the module in DIR.
tag() { if [ "$1" = . ]; then echo "$2"; else echo "$1/$2"; fi; }

# requires GOMOD: "path version" for each requirement on one of our modules.
requires() {
	go mod edit -print "$1" | awk -v repo="$repo" '
		/^require \(/ { block = 1; next }
		block && /^\)/ { block = 0; next }
		/^require / { p = $2; v = $3 }
		block { p = $1; v = $2 }
		(block || /^require /) && (p == repo || index(p, repo "/") == 1) { print p, v }'
}

# replaces: "path version dir" for each replace in go.work, dir written as
# in .ci/next-versions ("." for "./").
replaces() {
	go work edit -print | awk '/=>/ {
		if ($1 == "replace") { p = $2; v = $3; d = $5 } else { p = $1; v = $2; d = $4 }
		sub(/^\.\//, "", d); sub(/\/$/, "", d); if (d == "") d = "."
		print p, v, d }'
}

# workspace_gomods: the go.mod file of every module go.work uses.
workspace_gomods() { go list -m -f '{{.GoMod}}'; }
