#!/usr/bin/env bash
# `diffsr bench stablesr` beside the reference's own StableSR modules in eager PyTorch on the same
# machine (Tools/bench/stablesr_bench.py), alternating the two for ROUNDS rounds (default 1: each
# full-width run takes minutes), and prints the time ratio per case (< 1: DiffusionSR is faster).
# Cases (issue 17's targets, ≤ 0.6):
#   one time-aware encoder + U-Net call on a 64² latent (one DDPM step on one 512² tile)
#   the whole 128² → 512² upscale at STEPS DDPM steps (default 2)
# Needs a Python with torch (PYTHON=...) and a checkout of IceClear/StableSR (REFERENCE=...).
# Usage: REFERENCE=/path/to/StableSR PYTHON=python3 Tools/bench/compare_stablesr.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-python3}"; rounds="${ROUNDS:-1}"; steps="${STEPS:-2}"; seconds="${SECONDS_PER_CASE:-20}"
reference="${REFERENCE:?set REFERENCE to a checkout of IceClear/StableSR}"
swift build -c release --product diffsr >/dev/null
out=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
  .build/release/diffsr bench stablesr --part unet --seconds "$seconds" --format json >> "$out/swift.$round.jsonl"
  "$python" Tools/bench/stablesr_bench.py --reference "$reference" --part unet --seconds "$seconds" 2>/dev/null | tail -1 >> "$out/torch.$round.jsonl"
  .build/release/diffsr bench stablesr --part pipeline --steps "$steps" --format json >> "$out/swift.$round.jsonl"
  "$python" Tools/bench/stablesr_bench.py --reference "$reference" --part pipeline --steps "$steps" 2>/dev/null | tail -1 >> "$out/torch.$round.jsonl"
done
"$python" Tools/bench/ratio_table.py "$out" "$rounds" --memory
