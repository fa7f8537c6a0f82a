#!/usr/bin/env bash
# The store benchmark: import records/s, tokenizer MB/s and query latency natively
# (TRAWL_BENCH_SIZES, default 100k, 1M and 10M records), then import and query in headless
# Chromium, in memory and on OPFS (TRAWL_BENCH_BROWSER_SIZES, default 100k and 1M). Prints the
# tables, then one JSON object with every figure and the browser/native ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
native_log=$(mktemp)
browser_log=$(mktemp)
trap 'rm -f "$native_log" "$browser_log"' EXIT
cargo bench -p trawl-store --bench store | tee "$native_log"
TRAWL_BENCH_BROWSER_SIZES="${TRAWL_BENCH_BROWSER_SIZES:-100000,1000000}" \
RUSTFLAGS="--cfg trawl_wasm_bench" WASM_BINDGEN_TEST_TIMEOUT=1800 \
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
  cargo test --profile wasm-worker --target wasm32-unknown-unknown -p trawl-store --test wasm_bench -- --nocapture 2>&1 \
  | tee "$browser_log" | grep -E "^browser|test result"
python3 - "$native_log" "$browser_log" <<'PY'
import json, re, sys
native = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
browser = json.loads(re.search(r"TRAWL_BENCH_JSON (\{.*\})", open(sys.argv[2]).read()).group(1))
merged = {**native, **browser}
for key, value in browser.items():
    m = re.match(r"browser_import_(memory|opfs)_(\d+)_records_per_s", key)
    if m:
        kind, n = m.groups()
        base = native.get(f"import_{kind if kind == 'memory' else 'file'}_{n}_records_per_s")
        if base:
            merged[f"browser_vs_native_import_{kind}_{n}"] = value / base
        floor = browser.get(f"browser_fts_only_trawl_{n}_records_per_s")
        if floor:
            merged[f"browser_import_{kind}_{n}_vs_fts_only"] = value / floor
    m = re.match(r"browser_fts_only_trawl_(\d+)_records_per_s", key)
    if m and native.get(f"fts_only_trawl_{m.group(1)}_records_per_s"):
        n = m.group(1)
        merged[f"browser_vs_native_fts_only_{n}"] = value / native[f"fts_only_trawl_{n}_records_per_s"]
        if native.get(f"import_memory_{n}_records_per_s"):
            merged[f"native_import_memory_{n}_vs_fts_only"] = (
                native[f"import_memory_{n}_records_per_s"] / native[f"fts_only_trawl_{n}_records_per_s"])
print("\nbrowser/native ratios, and imports against the same target's fts-only floor:")
for key in sorted(k for k in merged if k.startswith("browser_vs_native") or k.endswith("_vs_fts_only")):
    print(f"  {key}: {merged[key]:.2f}")
print(json.dumps(merged))
PY
