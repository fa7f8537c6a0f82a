#!/usr/bin/env bash
# Builds the viewer into dist/ (release: index.html names each wasm's profile and wasm-opt level)
# and the trawl binary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
trunk build --release
cargo build -p trawl
