#!/usr/bin/env bash
# Page weight and load times as a person on a poor connection meets them: a release build on
# fresh demo data, each page visited cold by Chromium with the network throttled (see
# end2end/bench/page-weight.spec.ts). Prints a table for docs/BENCHMARKS.md.
source "$(dirname "$0")/env.sh"

"$ROOT/scripts/install-tools.sh"
step "Building Wardline (release)"
cargo leptos build --release --precompress

PORT="${WARDLINE_BENCH_PORT:-3500}"
DATA="$(mktemp -d)"
BIN="$CARGO_TARGET_DIR/release/wardline"
export WARDLINE_DATABASE_URL="sqlite://$DATA/bench.db" WARDLINE_ADDR="127.0.0.1:$PORT" \
  WARDLINE_COOKIE_SECURE=false RUST_LOG=warn
"$BIN" migrate >/dev/null
"$BIN" demo >/dev/null
"$BIN" serve &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/orgs" >/dev/null && break; sleep 0.2; done

step "Visiting each page cold on a throttled connection"
(cd "$ROOT/end2end" && WARDLINE_BENCH_PORT="$PORT" npx playwright test -c bench.config.ts)
