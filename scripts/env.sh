# Shared by the scripts: where tools and build output live. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
# Build output outside the clone keeps later runs (and fresh clones) warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wardline/target}"
step() { printf '\n==> %s\n' "$*"; }
