#!/usr/bin/env bash
# Runs the engine benchmark (Swift, release) and the same cases in PyTorch on the same machine in
# one run, alternating the two for ROUNDS rounds (default 3; the machines here are shared and
# noisy), and prints a Markdown table with the median time ratio Swift/PyTorch per case (< 1: the
# Swift engine is faster), and beside it the fastest round of each side (noise only ever adds
# time). Needs a Python with torch: PYTHON=/path/to/python (default python3).
# Usage: [ROUNDS=3] [PYTHON=python3] Tools/bench/compare.sh [--filter TEXT]
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-python3}"
rounds="${ROUNDS:-3}"
swift build -c release --product diffsr-bench >/dev/null
out=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
  .build/release/diffsr-bench "$@" > "$out/swift.$round.jsonl"
  "$python" Tools/bench/torch_bench.py "$@" > "$out/torch.$round.jsonl"
done
"$python" - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
load = lambda path: [json.loads(l) for l in open(path)]
swift = [load(f"{out}/swift.{r}.jsonl") for r in range(1, rounds + 1)]
torch = [{x["name"]: x for x in load(f"{out}/torch.{r}.jsonl")} for r in range(1, rounds + 1)]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
backend = next(iter(torch[0].values()))["backend"] if torch[0] else "?"
print(f"CPU: {cpu}; threads: {swift[0][0]['threads'] if swift[0] else '?'}; reference: {backend}; {rounds} alternating rounds, "
      "medians of the rounds' medians; 'best' = the fastest round's median (the same statistic on both sides)\n")
print("| case | Swift ms | Swift GFLOP/s | PyTorch ms | PyTorch GFLOP/s | time ratio Swift/PyTorch | best Swift GFLOP/s | best-round ratio |")
print("|---|---|---|---|---|---|---|---|")
for i, first in enumerate(swift[0]):
    name = first["name"]
    s_ms = statistics.median(r[i]["median_ms"] for r in swift)
    t_ms = [t[name]["median_ms"] for t in torch if name in t]
    ratios = [r[i]["median_ms"] / t[name]["median_ms"] for r, t in zip(swift, torch) if name in t]
    gf = lambda ms, base: "-" if base.get("gflops") is None else f"{base['gflops'] * base['median_ms'] / ms:.1f}"
    t0 = torch[0].get(name, {})
    tm = statistics.median(t_ms) if t_ms else float("nan")
    ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
    s_best = min(r[i]["median_ms"] for r in swift)
    best_ratio = f"{s_best / min(t_ms):.2f}" if t_ms else "-"
    print(f"| {name} ({first['backend']}) | {s_ms:.3f} | {gf(s_ms, first)} | {tm:.3f} | {gf(tm, t0) if t0 else '-'} | {ratio} "
          f"| {gf(s_best, first)} | {best_ratio} |")
PY
