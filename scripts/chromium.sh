#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests and print its
# path on stdout (messages go to stderr), so this works:
#
#   HEHUO_CHROMIUM=$(scripts/chromium.sh)
#
# When `chromium` is not on PATH and we are root, installs the Debian package
# `chromium` with apt-get (non-interactive). A test tool's own browser download
# (npx playwright install, puppeteer) does not work on these machines.
set -euo pipefail

say() { printf 'chromium: %s\n' "$*" >&2; }
die() { printf 'chromium: error: %s\n' "$*" >&2; exit 1; }

path=$(command -v chromium || true)
if [ -z "$path" ]; then
	[ "$(id -u)" -eq 0 ] || die "chromium not installed and not running as root; install with: sudo apt-get install -y chromium"
	command -v apt-get >/dev/null || die "chromium not installed and apt-get is not available"
	say "installing Debian chromium with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -q </dev/null >&2
	apt-get -o DPkg::Lock::Timeout=300 install -y -q chromium </dev/null >&2
	path=$(command -v chromium || true)
	[ -n "$path" ] || die "apt-get installed chromium but it is not on PATH"
fi
# Fail here, with its own words, if the binary cannot even start.
version=$(timeout 60 "$path" --headless --no-sandbox --version 2>&1 </dev/null) ||
	die "$path --version failed: $version"
# (Debian's launcher may print a harmless shell warning first; keep the last line.)
say "$(printf '%s\n' "$version" | tail -n 1) at $path"
echo "$path"
