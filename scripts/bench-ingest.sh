#!/usr/bin/env bash
# The ingest benchmark: MB/s and lines/s per format family for `trawl ingest` into a bundle,
# against `cat FILE > /dev/null` and lnav indexing the same file, in the same run. Generates
# (and caches) the corpora: 1 GiB of JSON lines, 200 MB of each other family.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
command -v lnav >/dev/null || { apt-get update -qq && apt-get install -y -qq lnav; } >&2
cargo bench -p trawl --bench ingest
