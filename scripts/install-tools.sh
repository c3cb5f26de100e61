#!/usr/bin/env bash
# Installs what building Wardline needs, skipping whatever is already there. Reaches only the
# Rust crate registry and npm. With --browser, also Debian's Chromium for the browser tests.
source "$(dirname "$0")/env.sh"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "Adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos 0.3.10" ]; then
  step "Installing cargo-leptos 0.3.10 (about 20 minutes on 2 cores, once)"
  # no_downloads: take wasm-bindgen, wasm-opt and sass from PATH, never from GitHub.
  cargo install cargo-leptos@0.3.10 --locked --features no_downloads
fi

# `cargo audit --version` prints "cargo-audit-audit 0.22.2": compare the number only.
if [ "$(cargo audit --version 2>/dev/null | awk '{print $2}')" != "0.22.2" ]; then
  step "Installing cargo-audit 0.22.2 (dependency audit against RustSec, about 8 minutes, once)"
  cargo install cargo-audit@0.22.2 --locked
fi

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  step "Installing wasm-bindgen-cli $want"
  # Not --locked: its lockfile wants a webpki-roots version the registry lacks.
  cargo install wasm-bindgen-cli --version "$want" --force
fi

if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ] \
  || [ ! -d end2end/node_modules/adaptivecards ] || [ ! -d end2end/node_modules/oidc-provider ]; then
  step "Installing npm packages (Playwright, axe-core, binaryen's wasm-opt, Adaptive Cards)"
  # Playwright's own browser download is never used: tests run Debian's Chromium.
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  step "Installing Debian's Chromium for the browser tests"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
fi
