#!/usr/bin/env bash
# Builds the viewer into dist/ (release: wasm-opt -Oz) and the trawl binary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
trunk build --release
cargo build -p trawl
