#!/usr/bin/env bash
# Build the Vue front end (microapp/web) into microapp/web/dist when needed.
#
#   scripts/web.sh          build only if dist/index.html is missing or stale
#   scripts/web.sh --force  always build
#
# Stale means some file among src/, index.html, m/index.html, package.json,
# package-lock.json or vite.config.* is newer than dist/index.html. Dependencies
# are (re)installed with `npm ci` (or `npm install` when there is no lock file)
# only when node_modules is missing or older than the lock file.
set -euo pipefail

say() { printf 'web: %s\n' "$*" >&2; }
die() { printf 'web: error: %s\n' "$*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
web="$root/microapp/web"
force=0
case "${1:-}" in
--force | -f) force=1 ;;
"") ;;
*) die "unknown argument '$1' (want: --force)" ;;
esac

if [ ! -f "$web/package.json" ]; then
	say "no microapp/web/package.json yet; skipping the front-end build"
	exit 0
fi
cd "$web"

# stale_inputs prints the first input newer than dist/index.html (or a reason).
stale_inputs() {
	if [ ! -f dist/index.html ]; then
		echo "dist/index.html missing"
		return
	fi
	local inputs=()
	local f
	for f in src index.html m/index.html package.json package-lock.json vite.config.*; do
		[ -e "$f" ] && inputs+=("$f")
	done
	[ ${#inputs[@]} -gt 0 ] || return 0
	find "${inputs[@]}" -newer dist/index.html -print -quit 2>/dev/null
}

if [ "$force" = 0 ]; then
	why=$(stale_inputs)
	if [ -z "$why" ]; then
		say "dist is up to date; skipping (scripts/web.sh --force rebuilds)"
		exit 0
	fi
	say "building: $why"
fi

command -v npm >/dev/null || die "npm not found (the machine's Node.js and npm are needed)"

# npm writes node_modules/.package-lock.json on every install; newer than the
# lock file means the installed tree is current.
if [ -f package-lock.json ]; then
	if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
		[ package.json -nt node_modules/.package-lock.json ]; then
		say "npm ci"
		npm ci --no-audit --no-fund </dev/null
	fi
else
	say "no package-lock.json; npm install"
	npm install --no-audit --no-fund </dev/null
fi

say "npm run build"
npm run build </dev/null
[ -f dist/index.html ] || die "npm run build finished but microapp/web/dist/index.html is missing"
# Vite may keep an unchanged index.html's old mtime; mark this build as fresh.
touch dist/index.html
say "built microapp/web/dist"
