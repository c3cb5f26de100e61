#!/usr/bin/env bash
# Runs every check and test: formatting, clippy for the server and the wasm builds, unit,
# service, HTTP and migration tests, then the browser tests (with axe-core) in Debian's
# headless Chromium.
source "$(dirname "$0")/env.sh"

"$ROOT/scripts/install-tools.sh" --browser

step "Formatting"
cargo fmt --all --check

step "Clippy: server build"
cargo clippy --locked --workspace --all-targets -- -D warnings

step "Clippy: wasm build"
cargo clippy --locked -p app --lib --no-default-features --features hydrate \
  --target wasm32-unknown-unknown -- -D warnings

step "Dependency audit (RustSec advisories, offline)"
# The advisory database is a local snapshot (these machines cannot fetch it): the one beside
# the clone, or WARDLINE_ADVISORY_DB. Without one the audit cannot run, and says so.
ADVISORY_DB="${WARDLINE_ADVISORY_DB:-}"
for candidate in "$ROOT/../shared/advisory-db" /work/shared/advisory-db; do
  [ -z "$ADVISORY_DB" ] && [ -d "$candidate/crates" ] && ADVISORY_DB="$candidate"
done
if [ -n "$ADVISORY_DB" ]; then
  cargo audit --db "$ADVISORY_DB" --no-fetch --deny warnings \
    --ignore RUSTSEC-2024-0436 `# paste: unmaintained, no fix; a build-time macro under leptos` \
    --ignore RUSTSEC-2023-0071 `# rsa (Marvin timing attack, no fix): compiled into jsonwebtoken's rust_crypto backend; Wardline signs only HS256 (HMAC) and never uses RSA`
else
  echo "No RustSec advisory database found (set WARDLINE_ADVISORY_DB): audit not run."
fi

step "Unit, service, HTTP and migration tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast
else
  cargo test --locked --workspace --no-fail-fast
fi

step "The same tests on PostgreSQL (a throwaway server, started here)"
# Every test that uses a database makes its own on this server (WARDLINE_TEST_POSTGRES);
# the few that test SQLite's own settings say so and pass over it.
PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/wardline-pg.XXXXXX")"
stop_postgres() { "$ROOT/scripts/postgres.sh" stop "$PG_DIR"; rm -rf "$PG_DIR"; }
trap stop_postgres EXIT
PG_URL="$("$ROOT/scripts/postgres.sh" start "$PG_DIR")"
echo "PostgreSQL at $PG_URL"
if cargo nextest --version >/dev/null 2>&1; then
  WARDLINE_TEST_POSTGRES="$PG_URL" cargo nextest run --locked --workspace --no-fail-fast
else
  WARDLINE_TEST_POSTGRES="$PG_URL" cargo test --locked --workspace --no-fail-fast
fi

step "Building the site for the browser tests (release: what ships, and what the byte budgets hold for)"
cargo leptos build --release --precompress

step "Browser tests (Playwright in Debian's Chromium, axe-core)"
# Most run against one instance on SQLite; two-instances.spec.ts runs two on a database of
# the PostgreSQL server above.
E2E_PG="$("$ROOT/scripts/postgres.sh" createdb "$PG_URL" e2e_two_instances)"
(cd end2end && WARDLINE_BIN="$CARGO_TARGET_DIR/release/wardline" WARDLINE_E2E_POSTGRES="$E2E_PG" \
  npx playwright test)
stop_postgres
trap - EXIT

step "All checks passed"
