#!/usr/bin/env bash
# Prints the size of each built wasm and JS file, raw and gzipped (builds the site first).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
trunk build --release >&2
printf '%-40s %12s %12s\n' file raw gzip
for f in dist/*.wasm dist/*.js; do
  printf '%-40s %12d %12d\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
