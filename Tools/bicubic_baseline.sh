#!/usr/bin/env bash
# The classical baselines of the SR benchmark: upscale the x4 bicubic LR of test-photo and
# test-classic with Pillow-exact bicubic and Lanczos, and score them with the BasicSR protocol
# (PSNR/SSIM on Y of BT.601 YCbCr, crop border 4; SR3 consistency; NIQE). Called by `make run`
# (after `make data`); prints a Markdown table of the means.
set -euo pipefail
diffsr="${DIFFSR:-.build/release/diffsr}"
out=.cache/baseline
echo "| set | method | PSNR-Y (dB) | SSIM-Y | consistency (MSE, 0-255) | NIQE | images |"
echo "|---|---|---|---|---|---|---|"
for split in test-photo test-classic; do
  for method in pil-bicubic pil-lanczos; do
    dir="$out/$split/$method"
    mkdir -p "$dir"
    for lr in data/$split/LR_bicubic/X4/*.png; do
      name=$(basename "$lr")
      [ -f "$dir/$name" ] || "$diffsr" resize "$lr" --scale 4 --method "$method" --output "$dir/$name" 2>/dev/null
    done
    mean=$("$diffsr" evaluate --sr "$dir" --hr "data/$split/HR" --lr "data/$split/LR_bicubic/X4" --scale 4 \
      --metrics psnr,ssim,consistency,niqe --format csv 2>/dev/null | tail -1)
    count=$(ls "$dir" | wc -l)
    IFS=, read -r _ psnr ssim consistency niqe <<< "$mean"
    printf '| %s | %s | %.2f | %.4f | %.2f | %.2f | %d |\n' "$split" "$method" "$psnr" "$ssim" "$consistency" "$niqe" "$count"
  done
done
