#!/usr/bin/env bash
# Brings Wardline up on a fresh machine: tools, a release build, the embedded SQLite database
# under data/ with migrations and demo data, then serves on http://127.0.0.1:3000.
source "$(dirname "$0")/env.sh"

"$ROOT/scripts/install-tools.sh"

step "Building Wardline (release)"
# `--precompress` writes brotli and gzip copies of the site beside each file, served as they
# are; without it the server compresses them on every request.
cargo leptos build --release --precompress

BIN="$CARGO_TARGET_DIR/release/wardline"
# This local run serves plain http, so the session cookie's Secure flag is switched off
# explicitly. A real deployment sits behind HTTPS and leaves it on (the default).
export WARDLINE_COOKIE_SECURE="${WARDLINE_COOKIE_SECURE:-false}"
step "Preparing the database"
"$BIN" migrate
"$BIN" demo

cat <<MSG

Wardline is starting on http://${WARDLINE_ADDR:-127.0.0.1:3000}

Demo organisations: London region (Y56), South East London ICB (QKK), six trusts,
five Lambeth GP practices and the supplier Synnovis. Demo people are fictional.

The demo sign-ins are listed above (from "wardline demo").

Note: the session cookie's Secure flag is OFF for this plain-http local run
(WARDLINE_COOKIE_SECURE=$WARDLINE_COOKIE_SECURE). Never run a real deployment without HTTPS.
Press Ctrl+C to stop.
MSG
exec "$BIN" serve
