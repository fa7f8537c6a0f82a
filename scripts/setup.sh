#!/usr/bin/env bash
# Installs whatever trawl's build and tests need and is missing, by name and pinned version.
# Idempotent and fast when everything is present. Never downloads from anywhere but the
# package registries (crates.io, npm, Debian).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132.0.0"
# Tools that are not cargo-installed live here, outside the clone, so fresh clones reuse them.
TOOLS_DIR="${TRAWL_TOOLS_DIR:-$HOME/.cache/trawl-tools}"

log() { printf '[setup] %s\n' "$*" >&2; }

# wasm-bindgen-cli must equal the wasm-bindgen that Cargo.lock pins.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# --- Rust targets and components ---------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >&2
fi
for comp in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$comp"; then
    rustup component add "$comp" >&2
  fi
done

# --- Debian packages -----------------------------------------------------------------------
missing=()
command -v clang >/dev/null || missing+=(clang)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then apt_install "${missing[@]}"; fi

# --- cargo-installed tools -----------------------------------------------------------------
if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
  log "cargo install trunk@$TRUNK_VERSION (several minutes)"
  cargo install --locked --quiet "trunk@$TRUNK_VERSION" >&2
fi
WB_VERSION="$(wasm_bindgen_version)"
if [ -z "$WB_VERSION" ]; then
  log "no wasm-bindgen in Cargo.lock"; exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
  # --locked fails here: one of its locked dependencies is no longer on the registry.
  log "cargo install wasm-bindgen-cli@$WB_VERSION"
  cargo install --quiet --force "wasm-bindgen-cli@$WB_VERSION" >&2
fi

# --- npm-installed tools -------------------------------------------------------------------
# wasm-opt from npm's binaryen (Debian's binaryen 108 miscompiles wasm-bindgen's table init).
if [ "$("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  log "npm install binaryen@$BINARYEN_VERSION"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION" >&2
fi

# Trunk builds offline (Trunk.toml): every crate must be in the local registry cache first.
cargo fetch --locked --manifest-path "$ROOT/Cargo.toml" >&2

log "ready: $(trunk --version), $(wasm-bindgen --version), wasm-opt $("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version | awk '{print $3}'), $(chromium --version 2>/dev/null)"
# Print the PATH addition for callers to eval.
echo "export PATH=\"$TOOLS_DIR/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:\$PATH\""
