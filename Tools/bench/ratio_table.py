#!/usr/bin/env python3
"""The table of Tools/bench/compare_*.sh: per case, the medians of this project's and the reference's
times over the rounds and the median of their per-round ratios (< 1: DiffusionSR is faster).
    python ratio_table.py OUT_FOLDER ROUNDS [--memory]
OUT_FOLDER holds swift.<round>.jsonl and torch.<round>.jsonl (one JSON line per case, keyed by "name")."""
import json
import statistics
import sys


def main():
    out, rounds, memory = sys.argv[1], int(sys.argv[2]), "--memory" in sys.argv[3:]
    load = lambda p: {x["name"]: x for x in map(json.loads, open(p))}
    swift = [load(f"{out}/swift.{r}.jsonl") for r in range(1, rounds + 1)]
    torch = [load(f"{out}/torch.{r}.jsonl") for r in range(1, rounds + 1)]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    first = next(iter(torch[0].values()))
    print(f"CPU: {cpu}; threads: {first['threads']}; reference: {first['backend']}; {rounds} alternating round(s), medians\n")
    extra = " peak RSS MiB (Swift / PyTorch) |" if memory else ""
    print("| case | parameters (Swift / PyTorch) | DiffusionSR ms | PyTorch ms | time ratio |" + extra)
    print("|---|---|---|---|---|" + ("---|" if memory else ""))
    for name, s0 in swift[0].items():
        s = statistics.median(r[name]["median_ms"] for r in swift)
        t = statistics.median(r[name]["median_ms"] for r in torch)
        ratio = statistics.median(a[name]["median_ms"] / b[name]["median_ms"] for a, b in zip(swift, torch))
        peak = f" {s0.get('peak_rss_mb')} / {torch[0][name].get('peak_rss_mb')} |" if memory else ""
        print(f"| {name} | {s0['parameters']:,} / {torch[0][name]['parameters']:,} | {s:.1f} | {t:.1f} | {ratio:.2f} |" + peak)


if __name__ == "__main__":
    main()
