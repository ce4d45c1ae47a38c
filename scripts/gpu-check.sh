#!/usr/bin/env bash
# One script for the GPU machine (Ubuntu 24.04, nvcc 13, PyTorch 2.x with CUDA, Catch2 v3, Google
# Benchmark; no apt, no network): configures and builds only what the GPU kernels need
# (test_kernels, bench_cuda_kernels), runs the [cuda] tests and the CUDA kernel benchmark, and
# leaves everything in $OUT (default ./gpu-check-out): gpu-check.log (this script's trace, set -x),
# one log per step, test_kernels_cuda.xml (JUnit, Catch2 v3), bench_cuda_kernels.json (Google Benchmark),
# nvidia-smi.txt, steps.tsv (step, exit status, seconds). A failed step does not stop the later
# ones; the exit status is the number of failed steps.
#
# Before: on the development machine, `scripts/setup-deps.sh --download-only .deps --without-boost`
# (TOML++ and the other header/library packages the GPU machine lacks; this build leaves apps/repro
# out and needs no Boost; about 12 MB) and send .deps along with the tree. (Its Catch2 v2 may then
# shadow the machine's v3: the tests build with either, through tests/catch.h.)
#
#   scripts/gpu-check.sh                     # everything, within GPU_CHECK_BUDGET_S (default 570 s)
#   GPU_CHECK_STEPS="build test" scripts/gpu-check.sh
#   BENCH_FILTER='^(q4g128|2:4)/' scripts/gpu-check.sh
set -u -o pipefail

OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
BUILD=${GPU_CHECK_BUILD:-build-gpu}
BUDGET=${GPU_CHECK_BUDGET_S:-570}
STEPS=${GPU_CHECK_STEPS:-"info configure build test bench"}
BENCH_FILTER=${BENCH_FILTER:-}
BENCH_REPS=${BENCH_REPS:-15}
JOBS=${JOBS:-$(nproc)}
START=$(date +%s)

exec > >(tee -a "$OUT/gpu-check.log") 2>&1
export PS4='+ [$(( $(date +%s) - START ))s] '
set -x

left() { echo $(( BUDGET - ($(date +%s) - START) )); }
FAILED=0
printf 'step\tstatus\tseconds\n' > "$OUT/steps.tsv"
# run_step NAME TIMEOUT_S COMMAND...: runs with a timeout, logs to $OUT/NAME.log, records status.
run_step() {
  local name=$1 limit=$2
  shift 2
  local t0 rc
  t0=$(date +%s)
  if [ "$limit" -le 5 ]; then
    echo "gpu-check: no time left for $name"
    printf '%s\t%s\t%s\n' "$name" "skipped (no time)" 0 >> "$OUT/steps.tsv"
    FAILED=$((FAILED + 1))
    return 1
  fi
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  tail -n 40 "$OUT/$name.log"
  printf '%s\t%s\t%s\n' "$name" "$rc" $(( $(date +%s) - t0 )) >> "$OUT/steps.tsv"
  [ "$rc" -eq 0 ] || FAILED=$((FAILED + 1))
  return "$rc"
}
want() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# ---- environment -------------------------------------------------------------------------------
TORCH_PREFIX=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)" 2>/dev/null || true)
CUSPARSELT_DIR=$(python3 -c "import nvidia.cusparselt as m, os; print(os.path.join(list(m.__path__)[0], 'lib'))" 2>/dev/null || true)
if [ -n "$CUSPARSELT_DIR" ] && [ -d "$CUSPARSELT_DIR" ]; then
  export LD_LIBRARY_PATH="$CUSPARSELT_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  lib=$(ls "$CUSPARSELT_DIR"/libcusparseLt.so* 2>/dev/null | head -n 1)
  [ -n "$lib" ] && export REPRO_CUSPARSELT_PATH="$lib"
else
  echo "gpu-check: the nvidia-cusparselt wheel was not found; the 2:4 tests and benchmarks will say so"
fi
PREFIX="$TORCH_PREFIX"
if [ -d .deps/root/usr ]; then
  PREFIX="$PREFIX;$PWD/.deps/root/usr"
  export LD_LIBRARY_PATH="$PWD/.deps/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  echo "gpu-check: no .deps/root/usr (scripts/setup-deps.sh --download-only .deps on the development machine); configure may miss TOML++"
fi
GENERATOR=()
command -v ninja > /dev/null && GENERATOR=(-G Ninja)

if want info; then
  run_step info 30 bash -c 'nvidia-smi; nvidia-smi -q -d CLOCK; nvcc --version; cmake --version; g++ --version;
    python3 -c "import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, torch.cuda.is_available())";
    echo "torch prefix: '"$TORCH_PREFIX"'"; echo "cuSPARSELt: '"${REPRO_CUSPARSELT_PATH:-none}"'";
    dpkg -l | grep -E "catch2|libbenchmark|tomlplusplus|nlohmann|libfmt|spdlog|boost-program|sentencepiece" || true'
  cp "$OUT/info.log" "$OUT/nvidia-smi.txt" 2>/dev/null
fi

# ---- configure and build only what the GPU kernels need -----------------------------------------
# The folders test_kernels links (kernels, methods and what they need); the rest stays out.
if want configure; then
  run_step configure 120 cmake -S . -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$PREFIX" -DREPRO_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DREPRO_FOLDERS="core;report;kernels;models;datasets;methods" -DREPRO_BUILD_TESTS=ON \
    -DREPRO_BUILD_BENCHMARKS=ON
fi
if want build; then
  # Leave the tests and the bench at least ~150 s.
  run_step build $(( $(left) - 150 )) cmake --build "$BUILD" -j "$JOBS" --target test_kernels bench_cuda_kernels
fi

# ---- tests ---------------------------------------------------------------------------------------
if want test && [ -x "$BUILD/tests/test_kernels" ]; then
  # Console output (with durations and the skip warnings) in test_cuda.log; Catch2 v3 writes the
  # same run as JUnit too (v2 takes one reporter: then console only).
  reporters=(--reporter console)
  "$BUILD/tests/test_kernels" --help 2>&1 | grep -q 'reporter.*::out' &&
    reporters+=(--reporter "junit::out=$OUT/test_kernels_cuda.xml")
  run_step test_cuda $(( $(left) > 240 ? 150 : $(left) / 2 )) "$BUILD/tests/test_kernels" "[cuda]" \
    --durations yes "${reporters[@]}"
  run_step test_cpu_side 60 "$BUILD/tests/test_kernels" "[cuda_host]"
elif want test; then
  echo "gpu-check: test_kernels was not built"
  printf '%s\t%s\t%s\n' test "not built" 0 >> "$OUT/steps.tsv"
  FAILED=$((FAILED + 1))
fi

# ---- benchmark -----------------------------------------------------------------------------------
if want bench && [ -x "$BUILD/bench/bench_cuda_kernels" ]; then
  args=(--benchmark_out="$OUT/bench_cuda_kernels.json" --benchmark_out_format=json --reps="$BENCH_REPS")
  [ -n "$BENCH_FILTER" ] && args+=(--benchmark_filter="$BENCH_FILTER")
  run_step bench $(( $(left) - 10 )) "$BUILD/bench/bench_cuda_kernels" "${args[@]}"
elif want bench; then
  echo "gpu-check: bench_cuda_kernels was not built"
  printf '%s\t%s\t%s\n' bench "not built" 0 >> "$OUT/steps.tsv"
  FAILED=$((FAILED + 1))
fi

set +x
echo "gpu-check: done in $(( $(date +%s) - START )) s; $FAILED step(s) failed"
cat "$OUT/steps.tsv"
exit "$FAILED"
