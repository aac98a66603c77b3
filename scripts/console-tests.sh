#!/usr/bin/env bash
# The web console in a real browser: Debian's Chromium driven by playwright-core, axe-core on
# every page, screenshots at 1280 and 390 px wide (in tests/console/screenshots/). Installs
# Chromium (apt-get) and the npm packages when they are missing, or stops saying what is
# missing; never skips. Node is needed for these tests only, not to build or run Guildhall.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "error: the console tests need Node.js 18 or later with npm" >&2
  echo "       (Debian/Ubuntu: apt-get install nodejs npm)." >&2
  exit 1
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "console tests: installing Debian's chromium" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
  fi
  if [ ! -x "$chromium" ]; then
    echo "error: the console tests need Chromium at $chromium" >&2
    echo "       (Debian/Ubuntu: apt-get install chromium), or set CHROMIUM to its path." >&2
    exit 1
  fi
fi
# The billing test downloads an invoice and reads it back with pdftotext (poppler-utils); it
# moves one plan period back a month with the sqlite3 shell, so that a month is over to invoice.
for tool in pdftotext:poppler-utils sqlite3:sqlite3; do
  cmd=${tool%%:*} pkg=${tool#*:}
  if ! command -v "$cmd" >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "console tests: installing Debian's $pkg ($cmd)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
  fi
  if ! command -v "$cmd" >/dev/null; then
    echo "error: the console tests need $cmd (Debian/Ubuntu: apt-get install $pkg)" >&2
    exit 1
  fi
done
if [ ! -d tests/console/node_modules/playwright-core ] || [ ! -d tests/console/node_modules/@axe-core/playwright ]; then
  echo "console tests: installing playwright-core and @axe-core/playwright (npm ci)" >&2
  (cd tests/console && npm ci --no-audit --no-fund --silent)
fi

# The binary this checkout builds (a copy: another worktree's build may overwrite target/).
cargo build --locked --quiet --bin guildhall
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$target/debug/guildhall" "$work/guildhall"

shots="$PWD/tests/console/screenshots"
rm -rf "$shots"
cd tests/console
GUILDHALL_BIN="$work/guildhall" GUILDHALL_SCREENSHOTS="$shots" CHROMIUM="$chromium" \
  node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
echo "console tests: screenshots in $shots" >&2
