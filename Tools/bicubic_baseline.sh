#!/usr/bin/env bash
# The classical baselines of the SR benchmark: upscale the x4 bicubic LR of test-photo and
# test-classic with Pillow-exact bicubic and Lanczos, and score them with the BasicSR protocol
# (PSNR/SSIM on Y, crop border 4, consistency, NIQE). Called by `make run`; needs `make data`.
set -euo pipefail
diffsr="${DIFFSR:-.build/release/diffsr}"
out=.cache/baseline
for split in test-photo test-classic; do
  for method in pil-bicubic pil-lanczos; do
    dir="$out/$split/$method"
    mkdir -p "$dir"
    for lr in data/$split/LR_bicubic/X4/*.png; do
      name=$(basename "$lr")
      [ -f "$dir/$name" ] || "$diffsr" resize "$lr" --scale 4 --method "$method" --output "$dir/$name" 2>/dev/null
    done
    echo "== $split, x4, $method =="
    "$diffsr" evaluate --sr "$dir" --hr "data/$split/HR" --lr "data/$split/LR_bicubic/X4" --scale 4 \
      --metrics psnr,ssim,consistency,niqe --format table 2>/dev/null | tail -1
  done
done
