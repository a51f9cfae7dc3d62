#!/usr/bin/env bash
# Downloads the Debian packages that hold the offline photo sets (Datasets/manifest.tsv), extracts
# them into a cache without installing them, and checks every listed file's sha256 prefix.
# Idempotent: packages already downloaded are not fetched again.
# Usage: Tools/data/fetch.sh CACHE_DIR   (writes CACHE_DIR/debs/*.deb and CACHE_DIR/root/...)
set -euo pipefail
cache="${1:?usage: fetch.sh CACHE_DIR}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
manifest="$here/Datasets/manifest.tsv"
mkdir -p "$cache/debs" "$cache/root"
packages=$(awk -F'\t' '!/^#/ {print $3}' "$manifest" | sort -u)
missing=()
for p in $packages; do
  ls "$cache/debs/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fetch: downloading ${missing[*]}" >&2
  if ! (cd "$cache/debs" && apt-get download "${missing[@]}" >/dev/null); then
    echo "fetch: apt-get download failed; refreshing the package lists and retrying" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
    (cd "$cache/debs" && apt-get download "${missing[@]}" >/dev/null)
  fi
fi
for deb in "$cache"/debs/*.deb; do
  stamp="$cache/root/.$(basename "$deb").extracted"
  [ -e "$stamp" ] && continue
  dpkg-deb -x "$deb" "$cache/root"
  touch "$stamp"
done
bad=0
while IFS='|' read -r package path sha; do
  file="$cache/root$path"
  if [ ! -f "$file" ]; then echo "fetch: missing $path (package $package)" >&2; bad=1; continue; fi
  actual=$(sha256sum "$file" | cut -c1-16)
  if [ "$actual" != "$sha" ]; then echo "fetch: $path has sha256 $actual..., expected $sha..." >&2; bad=1; fi
done < <(awk -F'\t' '!/^#/ {print $3 "|" $4 "|" $9}' "$manifest")
[ $bad = 0 ] || { echo "fetch: some files are missing or differ from the manifest" >&2; exit 1; }
echo "fetch: all $(grep -vc '^#' "$manifest") files present and verified in $cache/root" >&2
