#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan) in their own build folder and runs
# each in turn, one job at a time, from its committed seed corpus (fuzz/README.md).
#
#   scripts/fuzz.sh [--merge] [TARGET...]     (make fuzz [FUZZ_TARGETS="idx cifar"])
#     TARGET       safetensors tokenizer_json hf_config table_toml json_lines idx cifar (default: all)
#     --merge      afterwards, add the inputs of the working corpus that reach new coverage to the
#                  committed seeds in fuzz/corpus/TARGET (libFuzzer -merge=1)
#   Environment:
#     FUZZ_RUNS    inputs per target (default 1000000); FUZZ_TIME  seconds per target (default: no
#                  limit), whichever ends first
#     FUZZ_BUILD   build folder (default build-fuzz); FUZZ_JOBS  compile jobs (default 2)
#     FUZZ_ARGS    more libFuzzer options
#
# Inputs found by the fuzzer go to FUZZ_BUILD/corpus/TARGET (kept between runs, so a second run
# continues), a crashing input to FUZZ_BUILD/artifacts/TARGET-crash-<sha1> (or leak-, timeout-,
# oom-). A summary line per target goes to FUZZ_BUILD/summary.txt. Exits non-zero when any target
# found something. Needs clang and libclang-rt-dev (scripts/setup-deps.sh --fuzz).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD=${FUZZ_BUILD:-$REPO/build-fuzz}
RUNS=${FUZZ_RUNS:-1000000}
TIME=${FUZZ_TIME:-0}
JOBS=${FUZZ_JOBS:-2}
ALL=(safetensors tokenizer_json hf_config table_toml json_lines idx cifar)
# The targets whose input is JSON get the JSON syntax tokens in their dictionary too.
JSON_TARGETS=" safetensors tokenizer_json hf_config json_lines "

die() { echo "fuzz: $*" >&2; exit 1; }

MERGE=0
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --merge) MERGE=1 ;;
    -*) die "unknown option '$arg' (use --merge)" ;;
    *) [[ " ${ALL[*]} " == *" $arg "* ]] || die "unknown target '$arg' (targets: ${ALL[*]})"; TARGETS+=("$arg") ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

command -v clang++ >/dev/null || die "clang++ not found: install it with scripts/setup-deps.sh --fuzz"
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$REPO" -B "$BUILD" -G Ninja -DREPRO_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null ||
    die "configuring $BUILD failed"
fi
cmake --build "$BUILD" -j "$JOBS" --target fuzzers

mkdir -p "$BUILD/artifacts" "$BUILD/dict"
found=()
for t in "${TARGETS[@]}"; do
  seeds=$REPO/fuzz/corpus/$t
  work=$BUILD/corpus/$t
  mkdir -p "$work"
  dict=$BUILD/dict/$t.dict
  { [[ "$JSON_TARGETS" == *" $t "* ]] && cat "$REPO/fuzz/dict/json.dict"; cat "$REPO/fuzz/dict/$t.dict" 2>/dev/null; } >"$dict" || true
  dict_arg=()
  [ -s "$dict" ] && dict_arg=(-dict="$dict")
  log=$BUILD/$t.log
  echo "== fuzz_$t: $RUNS runs$([ "$TIME" != 0 ] && echo " or $TIME s") (log: $log)"
  start=$(date +%s)
  set +e
  # shellcheck disable=SC2086
  "$BUILD/fuzz/fuzz_$t" -runs="$RUNS" -max_total_time="$TIME" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" "${dict_arg[@]}" ${FUZZ_ARGS:-} \
    "$work" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  files=$(find "$work" "$seeds" -type f | wc -l)
  bytes=$(find "$work" "$seeds" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  line="$t runs=${runs:-?} seconds=$(( $(date +%s) - start )) exit=$rc corpus_files=$files corpus_bytes=$bytes"
  if [ $rc -ne 0 ]; then
    found+=("$t")
    line+=" FOUND: $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|fuzz: |deadly signal|out-of-memory|timeout' "$log" || echo "see $log")"
    tail -n 40 "$log" >&2
  fi
  echo "$line" | tee -a "$BUILD/summary.txt"
  if [ $MERGE -eq 1 ] && [ $rc -eq 0 ]; then
    before=$(find "$seeds" -type f | wc -l)
    "$BUILD/fuzz/fuzz_$t" -merge=1 -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 "$seeds" "$work" \
      >"$BUILD/$t.merge.log" 2>&1 || die "merging into $seeds failed (log: $BUILD/$t.merge.log)"
    echo "   merged: fuzz/corpus/$t has $(find "$seeds" -type f | wc -l) files (was $before)," \
      "$(du -sb "$seeds" | cut -f1) bytes"
  fi
done
[ ${#found[@]} -eq 0 ] || die "findings in: ${found[*]} (inputs in $BUILD/artifacts/)"
