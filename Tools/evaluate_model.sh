#!/usr/bin/env bash
# Scores a model on the offline ×4 test sets (after `make data`): upscales every LR image, then
# PSNR-Y / SSIM-Y (crop 4), consistency and NIQE against the HR, and seconds per image.
# Usage: Tools/evaluate_model.sh MODEL [extra diffsr upscale options]   (prints a Markdown table)
set -euo pipefail
model="${1:?usage: evaluate_model.sh MODEL [upscale options]}"; shift
diffsr="${DIFFSR:-.build/release/diffsr}"
name=$(basename "$model" .safetensors)
echo "| set | model | PSNR-Y (dB) | SSIM-Y | consistency | NIQE | s/image | images |"
echo "|---|---|---|---|---|---|---|---|"
for split in test-photo test-classic; do
  out=".cache/results/$name/$split"
  rm -rf "$out"; mkdir -p "$out"
  start=$(date +%s.%N)
  "$diffsr" upscale "data/$split/LR_bicubic/X4" --model "$model" --output "$out" "$@" 2>/dev/null
  end=$(date +%s.%N)
  count=$(ls "$out" | wc -l)
  mean=$("$diffsr" evaluate --sr "$out" --hr "data/$split/HR" --lr "data/$split/LR_bicubic/X4" --scale 4 \
    --metrics psnr,ssim,consistency,niqe --format csv 2>/dev/null | tail -1)
  IFS=, read -r _ psnr ssim consistency niqe <<< "$mean"
  printf '| %s | %s | %.2f | %.4f | %.2f | %.2f | %.2f | %d |\n' "$split" "$name" "$psnr" "$ssim" "$consistency" "$niqe" \
    "$(echo "($end - $start) / $count" | bc -l)" "$count"
done
