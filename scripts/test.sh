#!/usr/bin/env bash
# Runs every test of Guildhall: unit, integration (real HTTP on loopback, on a real SQLite file
# and a real PostgreSQL database), property and concurrency tests.
#
# PostgreSQL: uses GUILDHALL_TEST_DATABASE_URL (an admin URL) if set, otherwise
# postgres://postgres@127.0.0.1:5432/postgres, starting the local cluster if it is installed
# but down. Without PostgreSQL it stops and says what to install; no test is ever skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${GUILDHALL_TEST_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
export GUILDHALL_TEST_DATABASE_URL

pg_up() { pg_isready -q -d "$GUILDHALL_TEST_DATABASE_URL" 2>/dev/null; }

if ! command -v cargo >/dev/null; then
  echo "error: cargo is missing; install Rust from https://rustup.rs" >&2
  exit 1
fi
if ! command -v pg_isready >/dev/null; then
  echo "error: PostgreSQL is not installed. Install it (Debian/Ubuntu: apt-get install postgresql)" >&2
  echo "       or set GUILDHALL_TEST_DATABASE_URL to a server where the user may create databases." >&2
  exit 1
fi
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "PostgreSQL is down; starting cluster $version/main" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
fi
if ! pg_up; then
  echo "error: PostgreSQL does not answer at $GUILDHALL_TEST_DATABASE_URL." >&2
  echo "       Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or point" >&2
  echo "       GUILDHALL_TEST_DATABASE_URL at a server where the user may create databases." >&2
  exit 1
fi

# The invoice PDF tests read PDFs back with poppler's pdftotext, as a reader would (they fail,
# never skip, without it): installed here when missing, as the console tests install Chromium.
if ! command -v pdftotext >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tests: installing Debian's poppler-utils (pdftotext, for the invoice PDF tests)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }
  fi
  if ! command -v pdftotext >/dev/null; then
    echo "error: the invoice PDF tests need pdftotext (Debian/Ubuntu: apt-get install poppler-utils)" >&2
    exit 1
  fi
fi

# Each test drops its own database when it ends; what a killed run left behind is dropped here
# once it is an hour old, so that another run on the same server is never disturbed.
psql -qAt -d "$GUILDHALL_TEST_DATABASE_URL" -c \
  "SELECT datname FROM pg_database WHERE datname LIKE 'gh\_test\_%'
     AND (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - interval '1 hour'" \
  2>/dev/null |
  while read -r db; do psql -q -d "$GUILDHALL_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done

# The pure core builds on its own: no database, HTTP, runtime or OpenAPI crate, no clock
# (crates/guildhall-core/Cargo.toml); built with the rest, features would hide a slip.
cargo check -p guildhall-core --lib --locked --quiet

# Benches are left out: `cargo bench` runs them (harness = false would run them here too).
cargo test --workspace --lib --bins --tests --locked "$@"

# The web console in Debian's Chromium (playwright-core, axe-core, screenshots; about a minute).
scripts/console-tests.sh

# The API against its own OpenAPI document, over a real server (about two minutes).
scripts/schemathesis.sh
