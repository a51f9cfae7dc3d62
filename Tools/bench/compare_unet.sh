#!/usr/bin/env bash
# `diffsr bench unet` side by side with the reference U-Net in eager PyTorch on the same machine,
# alternating the two for ROUNDS rounds (default 3), and prints the median time ratio per case
# (< 1: DiffusionSR is faster). Cases (issue 4's targets):
#   Configs/bench/sr_sr3_16_128.json forward, 128×128, batch 1   (target ≤ 0.7)
#   Configs/sr3-x4-small.json        train,   64×64,  batch 16   (target ≤ 0.8)
# Needs a Python with torch (PYTHON=...) and a checkout of the reference SR3 repository (REFERENCE=...).
# Usage: REFERENCE=/path/to/Image-Super-Resolution-via-Iterative-Refinement PYTHON=python3 Tools/bench/compare_unet.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-python3}"; rounds="${ROUNDS:-3}"; seconds="${SECONDS_PER_CASE:-10}"
reference="${REFERENCE:?set REFERENCE to a checkout of the reference SR3 repository}"
swift build -c release --product diffsr >/dev/null
cases=("Configs/bench/sr_sr3_16_128.json 128 1 forward" "Configs/sr3-x4-small.json 64 16 train")
out=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
  for spec in "${cases[@]}"; do
    read -r config size batch mode <<< "$spec"
    .build/release/diffsr bench unet --model-config "$config" --size "$size" --batch "$batch" --mode "$mode" \
      --seconds "$seconds" --format json >> "$out/swift.$round.jsonl"
    "$python" Tools/bench/unet_bench.py --reference "$reference" --model-config "$config" --size "$size" --batch "$batch" \
      --mode "$mode" --seconds "$seconds" >> "$out/torch.$round.jsonl"
  done
done
"$python" Tools/bench/ratio_table.py "$out" "$rounds"
