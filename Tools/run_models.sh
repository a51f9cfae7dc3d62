#!/usr/bin/env bash
# The shipped models' part of `make run`: upscales the sample image (the Set5 butterfly LR of
# test-classic ×4) with each model in Models/ and scores every model on the ×4 test sets like the
# baselines. Prints nothing when no model is shipped.
set -euo pipefail
diffsr="${DIFFSR:-.build/release/diffsr}"
shopt -s nullglob
models=(Models/*.safetensors)
[ ${#models[@]} -gt 0 ] || exit 0
mkdir -p .cache/run
for model in "${models[@]}"; do
  name=$(basename "$model" .safetensors)
  "$diffsr" upscale data/test-classic/LR_bicubic/X4/butterfly_set5.png --model "$model" --output ".cache/run/butterfly_$name.png" 2>/dev/null
  echo "sample: .cache/run/butterfly_$name.png ($name, ×4 of data/test-classic/LR_bicubic/X4/butterfly_set5.png)"
done
for model in "${models[@]}"; do
  DIFFSR="$diffsr" Tools/evaluate_model.sh "$model"
done
