#!/usr/bin/env bash
# Make sure what agreement PDFs need is installed: Debian's CJK font
# fonts-droid-fallback (embedded in every agreement PDF, config
# agreements.font_path) and poppler-utils (pdftotext, with which the tests
# read the PDFs back). Prints the font's path on stdout (messages go to
# stderr). When something is missing and we are root, installs it with
# apt-get (non-interactive), like scripts/chromium.sh.
set -euo pipefail

say() { printf 'pdf: %s\n' "$*" >&2; }
die() { printf 'pdf: error: %s\n' "$*" >&2; exit 1; }

font=${HEHUO_AGREEMENT_FONT:-/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf}
missing=()
[ -f "$font" ] || missing+=(fonts-droid-fallback)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "${missing[*]} not installed and not running as root; install with: sudo apt-get install -y ${missing[*]}"
	command -v apt-get >/dev/null || die "${missing[*]} not installed and apt-get is not available"
	say "installing ${missing[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -q </dev/null >&2
	apt-get -o DPkg::Lock::Timeout=300 install -y -q "${missing[@]}" </dev/null >&2
fi
[ -f "$font" ] || die "the font $font is still missing (set HEHUO_AGREEMENT_FONT to a CJK TrueType font)"
command -v pdftotext >/dev/null || die "pdftotext is still missing after installing poppler-utils"
say "font $font, $(pdftotext -v 2>&1 | head -n 1)"
echo "$font"
