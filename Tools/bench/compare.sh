#!/usr/bin/env bash
# Runs the engine benchmark (Swift, release) and the same cases in PyTorch back to back, on the
# same machine in one run, and prints a Markdown table with the time ratio swift/torch (< 1 means
# the Swift engine is faster). Needs a Python with torch: PYTHON=/path/to/python (default python3).
# Usage: Tools/bench/compare.sh [--filter TEXT]
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-python3}"
swift build -c release --product diffsr-bench >/dev/null
out=$(mktemp -d)
.build/release/diffsr-bench "$@" > "$out/swift.jsonl"
"$python" Tools/bench/torch_bench.py "$@" > "$out/torch.jsonl"
"$python" - "$out/swift.jsonl" "$out/torch.jsonl" <<'PY'
import json, platform, subprocess, sys
swift = [json.loads(l) for l in open(sys.argv[1])]
torch = {r["name"]: r for r in map(json.loads, open(sys.argv[2]))}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"CPU: {cpu}, threads: {swift[0]['threads'] if swift else '?'}\n")
print("| case | Swift ms | Swift GFLOP/s | PyTorch ms | PyTorch GFLOP/s | time ratio Swift/PyTorch |")
print("|---|---|---|---|---|---|")
for s in swift:
    t = torch.get(s["name"], {})
    ratio = s["median_ms"] / t["median_ms"] if t.get("median_ms") else float("nan")
    g = lambda r: "-" if r.get("gflops") is None else f"{r['gflops']:.1f}"
    print(f"| {s['name']} | {s['median_ms']:.3f} | {g(s)} | {t.get('median_ms', float('nan')):.3f} | {g(t)} | {ratio:.2f} |")
PY
