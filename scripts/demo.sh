#!/usr/bin/env bash
# The main job: set up what is missing, build the viewer and trawl, serve the viewer on
# http://127.0.0.1:${TRAWL_PORT:-8080}/ until Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
scripts/build-site.sh
# A demo bundle from the sample logs (rebuilt each run).
samples="$ROOT/../shared/samples"
rm -rf .demo/samples
if [ -d "$samples" ]; then
  target/debug/trawl ingest --out .demo/samples "$samples/loghub"/*.log "$samples/synthetic"/*.log
else
  echo "trawl: no ../shared/samples beside the checkout; serving without a demo bundle" >&2
fi
port="${TRAWL_PORT:-8080}"
echo "trawl: serving the viewer; open the address below in a browser (Ctrl-C stops it)" >&2
bundle_args=()
[ -d .demo/samples ] && bundle_args=(--bundle .demo/samples)
exec target/debug/trawl serve dist --port "$port" "${bundle_args[@]}"
