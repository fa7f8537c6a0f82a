#!/usr/bin/env bash
# The main job: set up what is missing, build the viewer and trawl, serve the viewer on
# http://127.0.0.1:${TRAWL_PORT:-8080}/ until Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
scripts/build-site.sh
port="${TRAWL_PORT:-8080}"
echo "trawl: open http://127.0.0.1:$port/ in a browser (Ctrl-C stops the server)"
exec target/debug/trawl serve dist --port "$port"
