#!/usr/bin/env bash
# Compares two builds of diffsr-bench on the same machine: runs them alternately for ROUNDS rounds
# (default 5) on the cases whose name contains FILTER (all when empty), without the rows of other
# backends (`--skip-alternatives`), and prints per case each binary's fastest and median run and
# the ratio of the fastest runs (B/A; < 1: B is faster). For measuring a change on a shared, noisy
# host, where one run of a case can vary by ±30 %: noise only ever adds time, so the fastest of
# several alternating runs is the steadier statistic.
# Usage: [ROUNDS=5] Tools/bench/ab.sh BINARY_A BINARY_B [FILTER]
#   e.g. cp .build/release/diffsr-bench /tmp/bench-before; (change, rebuild);
#        Tools/bench/ab.sh /tmp/bench-before .build/release/diffsr-bench "kernel=3"
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: [ROUNDS=5] $0 BINARY_A BINARY_B [FILTER]" >&2
  exit 2
fi
a="$1"; b="$2"; filter="${3:-}"; rounds="${ROUNDS:-5}"
for binary in "$a" "$b"; do
  [ -x "$binary" ] || { echo "$0: $binary is not an executable" >&2; exit 2; }
done
a=$(realpath "$a"); b=$(realpath "$b")
cd "$(dirname "$0")/../.."   # the binaries read Benchmarks/cases.json from here
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq 1 "$rounds"); do
  "$a" --skip-alternatives --filter "$filter" > "$out/a.$round.jsonl"
  "$b" --skip-alternatives --filter "$filter" > "$out/b.$round.jsonl"
done
python3 - "$out" "$rounds" "$a" "$b" <<'PY'
import json, statistics, sys
out, rounds, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(side):
    times = {}
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{side}.{r}.jsonl"):
            case = json.loads(line)
            times.setdefault(case["name"], []).append(case["median_ms"])
    return times
ta, tb = load("a"), load("b")
print(f"A = {a}\nB = {b}\n{rounds} alternating rounds; ms per case: fastest run / median run\n")
print("| case | A | B | B/A (fastest) |")
print("|---|---|---|---|")
for name in ta:
    if name not in tb:
        continue
    fa, fb = min(ta[name]), min(tb[name])
    print(f"| {name} | {fa:.3f} / {statistics.median(ta[name]):.3f} | {fb:.3f} / {statistics.median(tb[name]):.3f} | {fb / fa:.3f} |")
PY
