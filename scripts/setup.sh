#!/usr/bin/env bash
# `make setup`: every step a fresh Debian 12 machine needs before `make test`, each timed.
#
#   scripts/setup.sh
#
# Steps: the Debian packages (scripts/setup-deps.sh), the embedded corpus (scripts/build-corpus.sh),
# the embedded image sets Fashion-MNIST and mnist10k (scripts/build-image-data.sh), then the
# tokenizer goldens (scripts/golden/fetch_tokenizers.sh: real tokenizer.json files and Hugging
# Face's ids for the golden test). Each step skips what is already done, so a second run
# is a no-op in seconds. Prints one line per step with its time, and a summary at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

STEPS=(
  "packages:$HERE/setup-deps.sh"
  "corpus:$HERE/build-corpus.sh"
  "images:$HERE/build-image-data.sh"
  "golden:$HERE/golden/fetch_tokenizers.sh"
)
summary=()
total=$(now)
for entry in "${STEPS[@]}"; do
  name=${entry%%:*} cmd=${entry#*:}
  echo "== setup: $name"
  t=$(now)
  if ! "$cmd"; then
    echo "setup: step '$name' failed after $(since "$t") s ($cmd)" >&2
    exit 1
  fi
  summary+=("$(printf '  %-10s %7s s' "$name" "$(since "$t")")")
done
echo "== setup: done in $(since "$total") s"
printf '%s\n' "${summary[@]}"
