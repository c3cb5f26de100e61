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

step "Unit, service, HTTP and migration tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast
else
  cargo test --locked --workspace --no-fail-fast
fi

step "Building the site for the browser tests"
cargo leptos build

step "Browser tests (Playwright in Debian's Chromium, axe-core)"
(cd end2end && WARDLINE_BIN="$CARGO_TARGET_DIR/debug/wardline" npx playwright test)

step "All checks passed"
