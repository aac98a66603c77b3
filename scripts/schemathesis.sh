#!/usr/bin/env bash
# Checks the API against its own OpenAPI document with schemathesis: the real debug binary on a
# free loopback port, a fresh SQLite data dir, every operation, about two minutes in all. Any
# failure (an undocumented status, content type or header, a body off its schema, bad input
# accepted, valid input refused, a 5xx) makes it exit non-zero.
#
# schemathesis is installed into .venv/ in the checkout (git-ignored) when missing. The binary is
# the one `cargo test` built (`cargo build` here is a no-op then); CARGO_TARGET_DIR is respected.
# SCHEMATHESIS_MAX_TIME (seconds, default 100) bounds the fuzzing; extra arguments go to
# `schemathesis run` (e.g. `--seed 42`, `--include-path-regex /orgs`).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=.venv
target=${CARGO_TARGET_DIR:-target}
bin=$target/debug/guildhall

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  echo "schemathesis: installing $SCHEMATHESIS_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
work=$(mktemp -d)
server=
stop() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# Fresh after `cargo test`, so this only makes sure the binary is this checkout's: worktrees
# that share a CARGO_TARGET_DIR overwrite each other's `debug/guildhall`. A copy is run, so a
# build elsewhere cannot swap it mid-run.
cargo build --locked --quiet --bin guildhall
cp "$bin" "$work/guildhall"
bin=$work/guildhall

service_token=svc-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
# Port 0: the kernel picks a free port, and the log says which.
NO_COLOR=1 GUILDHALL_LOG=info "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
  --mail-dir "$work/mail" --service-token "$service_token" >"$work/server.log" 2>&1 &
server=$!
base=
for _ in $(seq 1 100); do
  addr=$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" |
    sed -n 's/.*guildhall is serving.* listen=\([0-9.:]*\).*/\1/p' | head -n 1)
  if [ -n "$addr" ] && curl -fsS "http://$addr/readyz" >/dev/null 2>&1; then
    base=http://$addr
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.2
done
if [ -z "$base" ]; then
  echo "error: the server did not start; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

# The binary must serve the contract under review: a stale binary (another checkout's, in a
# shared CARGO_TARGET_DIR) or a snapshot not updated would make this run test something else.
curl -fsS "$base/api/v1/openapi.json" >"$work/openapi.json"
if ! python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
  "$work/openapi.json" tests/api/openapi.json; then
  echo "error: $bin serves a document other than tests/api/openapi.json; rebuild it, or update" >&2
  echo "       the snapshot (GUILDHALL_UPDATE_OPENAPI=1 cargo test --test api openapi)" >&2
  exit 1
fi

# One user, signed in; an API token for the operation that would end the session (sign-out).
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
post() { curl -fsS -X POST "$base$1" -H 'content-type: application/json' "${@:3}" -d "$2"; }
email=fuzz@example.com
password=fuzz-password-1
user=$(post /api/v1/users "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Fuzz\"}" | json id)
session=$(post /api/v1/sessions "{\"email\":\"$email\",\"password\":\"$password\"}" | json token)
api_token=$(post /api/v1/tokens '{"name":"schemathesis"}' -H "authorization: Bearer $session" | json token)
org=$(curl -fsS "$base/api/v1/orgs" -H "authorization: Bearer $session" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')

export GH_SESSION=$session GH_API_TOKEN=$api_token GH_SERVICE_TOKEN=$service_token
export GH_CACHE_DIR=$PWD/$venv/schemathesis-cache
# The user's personal organization and the user's id, offered to `{org}` and `{user}` beside
# generated values, so that the fuzzing reaches past 404 into the use cases. The config file is
# read from the work dir, where it finds these dictionaries.
printf '"%s"\n' "$org" >"$work/orgs.dict"
printf '"%s"\n' "$user" >"$work/users.dict"
cp scripts/schemathesis.toml "$work/schemathesis.toml"
color=--no-color
[ -t 1 ] && color=
status=0
"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" $color run "$base/api/v1/openapi.json" \
  --url "$base" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-100}" \
  --workers 2 \
  --generation-database none \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed (exit $status); the server's last log lines:" >&2
  tail -n 20 "$work/server.log" >&2
fi
exit "$status"
