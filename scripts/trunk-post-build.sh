#!/usr/bin/env bash
# Trunk post_build hook: gives the staged service worker its precache list and a version that
# is a hash of every built file, so any change to the build installs a new service worker.
set -euo pipefail
cd "${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"

files=$(find . -type f ! -name sw.js | sed 's|^\./||' | LC_ALL=C sort)
version=$(for f in $files; do printf '%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"; done \
  | sha256sum | cut -c1-16)

{
  printf '// Generated at build time by scripts/trunk-post-build.sh.\n'
  printf 'const VERSION = "%s";\n' "$version"
  printf 'const PRECACHE = ["./"'
  for f in $files; do printf ', "%s"' "$f"; done
  printf '];\n\n'
  cat sw.js
} > sw.js.new
mv sw.js.new sw.js
echo "trunk-post-build: service worker version $version, $(echo "$files" | wc -w) files precached" >&2
