#!/usr/bin/env bash
# Install the Node SDKs the DingTalk conformance test runs (conformance/).
#
#   scripts/conformance.sh    npm ci when conformance/node_modules is missing or stale
#
# Stale means package.json or package-lock.json is newer than the tree npm
# last installed (node_modules/.package-lock.json, which npm rewrites on every
# install). The Go test in conformance/ then runs conformance/run.mjs against
# the simulator; it skips without node_modules locally and fails in CI.
set -euo pipefail

say() { printf 'conformance: %s\n' "$*" >&2; }
die() { printf 'conformance: error: %s\n' "$*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/conformance"
[ -f package-lock.json ] || die "conformance/package-lock.json is missing"

installed=node_modules/.package-lock.json
if [ -f "$installed" ] && [ ! package-lock.json -nt "$installed" ] && [ ! package.json -nt "$installed" ]; then
	say "node_modules is up to date"
	exit 0
fi
command -v npm >/dev/null || die "npm not found (the machine's Node.js and npm are needed)"
say "npm ci"
npm ci --no-audit --no-fund </dev/null
say "installed the DingTalk Node SDKs"
