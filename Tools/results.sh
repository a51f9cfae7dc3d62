#!/usr/bin/env bash
# Regenerates docs/results/: the benchmark of the shipped models on the offline ×4 sets (after
# `make data`), with the external references (SPAN, Real-ESRGAN via Tools/reference/), on bicubic
# inputs and on inputs degraded with a fixed preset and seed, plus the SR3 sampler study.
# Long (about an hour and a half on 2 cores from scratch). Outputs are cached in .cache/results, so a rerun after a
# change redoes only what changed. SAMPLING="--steps N ..." passes sampling options to every
# diffusion method; METHODS, BLIND_METHODS, ONE_STEP_METHODS, STABLESR_METHODS, STABLESR_SUITES, ABLATION_MODEL
# and STUDY_* override the defaults below; PARTS picks
# what to run (default "bicubic degraded preset study"; "stablesr" adds the StableSR tables of issue 18).
# Usage: make results   (or DIFFSR=... NIQE_PARAMS=... Tools/results.sh)
set -euo pipefail
diffsr="${DIFFSR:-.build/release/diffsr}"
niqe="${NIQE_PARAMS:-.cache/niqe/niqe_pris_params.npz}"
methods="${METHODS:-bicubic,lanczos,regression,sr3}"
# The blind SR3+ model at several test-time augmentation levels (one column each).
blind_methods="${BLIND_METHODS:-bicubic,regression,sr3,sr3plus@aug=0,sr3plus@aug=0.2,sr3plus@aug=0.3}"
# The diffusion models at one step on the degraded inputs (bicubic is never color-corrected).
one_step_methods="${ONE_STEP_METHODS:-bicubic,sr3,sr3plus@aug=0.2,sr3plus@aug=0.3}"
cache=.cache/results
out=docs/results
parts=" ${PARTS:-bicubic degraded preset study} "
common=(--niqe-params "$niqe" --report-crop 96 --report-images 10 ${SAMPLING:-})

# Bicubic inputs: the SR3 protocol.
[[ $parts == *" bicubic "* ]] && for suite in test-photo test-classic; do
  Tools/reference/run_references.sh "data/$suite/LR_bicubic/X4" "$cache/references/$suite"
  "$diffsr" benchmark --suite "$suite" --methods "$methods" "${common[@]}" \
    --external "SPAN=$cache/references/$suite/span" --external "Real-ESRGAN=$cache/references/$suite/realesrgan" \
    --cache "$cache/$suite" --output "$out/$suite" > /dev/null
done

# Degraded inputs (blind SR): the realesrgan preset, seed 0; the same LR inputs for the references.
[[ $parts == *" degraded "* ]] && for suite in test-photo test-classic; do
  lr="$cache/$suite-realesrgan-lr"
  "$diffsr" degrade "data/$suite/HR" --preset realesrgan --seed 0 --scale 4 --output "$lr" > /dev/null
  Tools/reference/run_references.sh "$lr" "$cache/references/$suite-realesrgan" realesrgan
  "$diffsr" benchmark --suite "$suite" --degradation realesrgan --seed 0 --methods "$blind_methods" "${common[@]}" \
    --external "Real-ESRGAN=$cache/references/$suite-realesrgan/realesrgan" \
    --cache "$cache/$suite-realesrgan" --output "$out/$suite-realesrgan" > /dev/null
  # The benchmark made its own LR inputs from the same preset and seed: they must be the references' inputs.
  for f in "$out/$suite-realesrgan"/lr/*.png; do cmp -s "$f" "$lr/$(basename "$f")" || { echo "LR mismatch: $f" >&2; exit 1; }; done
  rm -rf "$out/$suite-realesrgan/lr"
  # The same inputs at one DDIM step (the models' own x₀ estimate; sr3plus-x4 records this as its
  # default), without and with wavelet color correction against the upsampled input.
  for fix in none wavelet; do
    name="$suite-realesrgan-1step"; [[ $fix == none ]] || name+="-$fix"
    "$diffsr" benchmark --suite "$suite" --degradation realesrgan --seed 0 --steps 1 --color-fix "$fix" --methods "$one_step_methods" \
      "${common[@]}" --cache "$cache/$name" --output "$out/$name" > /dev/null
    rm -rf "$out/$name/lr"
  done
done

# A diagnostic: test-photo degraded by the sr3plus preset, the family the SR3+ model was trained on.
[[ $parts == *" preset "* ]] && "$diffsr" benchmark --suite test-photo --degradation sr3plus --seed 0 --methods "${PRESET_METHODS:-bicubic,regression,sr3plus}" "${common[@]}" \
  --cache "$cache/test-photo-sr3plus" --output "$out/test-photo-sr3plus" > /dev/null
rm -rf "$out/test-photo-sr3plus/lr"
true

# StableSR (issue 18): the shipped stablesr-x4 at CFW weights w = 0 … 1 (the fidelity/realism sweep;
# w = 0 is the plain decoder, the paper's "w/o CFW" row) beside bicubic, sr3plus-x4 and Real-ESRGAN on
# the degraded inputs above; on test-photo also the "w/o time-aware" ablation (ABLATION_MODEL, a
# stage-1 model whose encoder never sees the timestep); and on test-photo's clean bicubic inputs.
stablesr_methods="${STABLESR_METHODS:-bicubic,sr3plus,stablesr@w=0,stablesr@w=0.25,stablesr@w=0.5,stablesr@w=0.75,stablesr@w=1}"
[[ $parts == *" stablesr "* ]] && for suite in ${STABLESR_SUITES:-test-photo test-classic}; do
  lr="$cache/$suite-realesrgan-lr"
  "$diffsr" degrade "data/$suite/HR" --preset realesrgan --seed 0 --scale 4 --output "$lr" > /dev/null
  Tools/reference/run_references.sh "$lr" "$cache/references/$suite-realesrgan" realesrgan
  columns="$stablesr_methods"
  [[ $suite == test-photo && -n ${ABLATION_MODEL:-} ]] && columns+=",$ABLATION_MODEL"
  "$diffsr" benchmark --suite "$suite" --degradation realesrgan --seed 0 --methods "$columns" "${common[@]}" \
    --external "Real-ESRGAN=$cache/references/$suite-realesrgan/realesrgan" \
    --cache "$cache/stablesr-$suite-realesrgan" --output "$out/stablesr-$suite-realesrgan" > /dev/null
  rm -rf "$out/stablesr-$suite-realesrgan/lr"
  if [[ $suite == test-photo ]]; then
    Tools/reference/run_references.sh data/test-photo/LR_bicubic/X4 "$cache/references/test-photo" realesrgan
    "$diffsr" benchmark --suite test-photo --methods "${STABLESR_CLEAN_METHODS:-bicubic,sr3,sr3plus,stablesr@w=0,stablesr@w=0.25,stablesr@w=0.5,stablesr@w=0.75,stablesr@w=1}" \
      --external "Real-ESRGAN=$cache/references/test-photo/realesrgan" \
      "${common[@]}" --cache "$cache/stablesr-test-photo" --output "$out/stablesr-test-photo" > /dev/null
  fi
done
true

# The sampler study: quality against time for the SR3 model on the first test-photo images.
[[ $parts == *" study "* ]] && "$diffsr" benchmark --suite test-photo --methods bicubic --study-model sr3 --study-samplers "${STUDY_SAMPLERS:-ddim,dpm-solver++}" \
  --study-steps "${STUDY_STEPS:-4,8,16,32}" --study-images "${STUDY_IMAGES:-2}" "${common[@]}" \
  --cache "$cache/study" --output "$out/sampler-study" > /dev/null
echo "docs/results updated:"; ls "$out"
