#!/usr/bin/env bash
# Installs every Debian package ReproBench needs to build, test and reproduce tables.
#
#   scripts/setup-deps.sh                    install what is missing (idempotent; a no-op in seconds)
#   scripts/setup-deps.sh --download-only D [--without-boost]
#                                            fetch the .deb files of the build dependencies and unpack
#                                            them into D/root (for machines without apt, e.g. the GPU
#                                            machine; point CMake at D/root/usr); the .debs are deleted
#                                            once unpacked. --without-boost leaves Boost out (162 MB of
#                                            headers that only apps/repro needs): what
#                                            scripts/gpu-check.sh's build takes, about 12 MB
#   scripts/setup-deps.sh --list             print the package list and exit (node and npm count as
#                                            present when their commands are, whatever provides them)
#   scripts/setup-deps.sh --fuzz             also install clang and its runtimes, for the libFuzzer
#                                            targets (make fuzz); not part of the default install
#   scripts/setup-deps.sh --slurm            also install slurm-wlm and munge, for the single-node SLURM
#                                            integration test (make test-slurm); not part of the default
#                                            install. --fuzz and --slurm combine.
set -euo pipefail

# Build and test.
BUILD_PKGS=(
  cmake ninja-build g++ ccache make git pkg-config
  libtorch-dev                  # libtorch 1.13 (CPU)
  libopenblas0-pthread          # mandatory: without it libtorch falls back to reference BLAS (~20x slower)
  libtomlplusplus-dev           # TOML configs
  libboost-program-options-dev  # the repro CLI
  catch2                        # tests (v2 here, v3 on the GPU machine)
  libbenchmark-dev              # bench/
  nlohmann-json3-dev            # records, HF config.json / tokenizer.json
  libfmt-dev libspdlog-dev      # formatting and logging
  libsentencepiece-dev          # SentencePiece tokenizers (load + train)
  zlib1g-dev                    # gzip'd C4 shards, R data files in the embedded corpus
  libssl-dev                    # SHA-256 for record keys and model/data fingerprints
  gnuplot-nox                   # Pareto plots: svg, pngcairo, pdfcairo terminals
  clang-format                  # make format
)
# Building the embedded corpus and fetching test references (scripts/build-corpus.sh, the
# golden-token and image-data steps): apt-get download for Debian data packages, mod2imp for
# the SWORD modules, python3 for the extractors, npm for npm-registry data packages.
DATA_PKGS=(
  libsword-utils python3 xz-utils ca-certificates
  dataset-fashion-mnist         # Fashion-MNIST IDX files (scripts/build-image-data.sh; 31 MB, no dependencies)
)
# Tools that may come from elsewhere (e.g. a Node.js vendor package that bundles npm): the
# command counts, and the Debian packages are installed only when a command is missing.
# Format: "command:package package ...".
TOOL_PKGS=(
  "node:nodejs"
  "npm:npm"
)
# The libFuzzer targets of fuzz/ (make fuzz): clang with libFuzzer, ASan and UBSan runtimes.
FUZZ_PKGS=(clang libclang-rt-dev)
# The SLURM launcher's integration test (tests/apps/slurm_test.sh): slurmctld, slurmd, sbatch,
# squeue and sacct, and munge for their authentication.
SLURM_PKGS=(slurm-wlm munge)
# Header-only / library packages worth carrying to a machine without apt.
CARRY_PKGS=(libtomlplusplus-dev nlohmann-json3-dev libfmt-dev libfmt9 libspdlog-dev libspdlog1.10
            libboost-program-options-dev libboost-program-options1.74-dev libboost-program-options1.74.0
            libboost1.74-dev libsentencepiece-dev libsentencepiece0 catch2)

die() { echo "setup-deps: $*" >&2; exit 1; }

missing() {
  local p out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || out+=("$p")
  done
  echo "${out[@]:-}"
}

# The Debian packages that provide the tools of TOOL_PKGS whose command is not on PATH.
missing_tools() {
  local entry cmd out=()
  for entry in "${TOOL_PKGS[@]}"; do
    cmd=${entry%%:*}
    command -v "$cmd" >/dev/null 2>&1 || out+=(${entry#*:})
  done
  echo "${out[@]:-}"
}

tool_packages() {
  local entry
  for entry in "${TOOL_PKGS[@]}"; do printf '%s\n' ${entry#*:}; done
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: run as root or install sudo"
  SUDO=sudo
fi

case "${1:-}" in
  --list)
    printf '%s\n' "${BUILD_PKGS[@]}" "${DATA_PKGS[@]}"; tool_packages; exit 0 ;;
  --download-only)
    dir=${2:?--download-only needs a folder}
    pkgs=("${CARRY_PKGS[@]}")
    case "${3:-}" in
      "") ;;
      --without-boost) pkgs=(); for p in "${CARRY_PKGS[@]}"; do [[ $p == libboost* ]] || pkgs+=("$p"); done ;;
      *) die "unknown argument '$3' after --download-only DIR (use --without-boost)" ;;
    esac
    mkdir -p "$dir/debs" "$dir/root"
    dir=$(cd "$dir" && pwd)
    command -v apt-get >/dev/null || die "apt-get not found: --download-only runs on a Debian machine"
    (cd "$dir/debs" && apt-get download "${pkgs[@]}") || die "apt-get download failed (run 'apt-get update' first?)"
    for f in "$dir"/debs/*.deb; do dpkg -x "$f" "$dir/root"; done
    rm -rf "$dir/debs"
    echo "setup-deps: unpacked ${#pkgs[@]} packages into $dir/root, $(du -sh "$dir/root" | cut -f1)" \
         "(cmake -DCMAKE_PREFIX_PATH=$dir/root/usr)"
    exit 0 ;;
esac
# Optional extras, any combination.
for arg in "$@"; do
  case "$arg" in
    --fuzz) BUILD_PKGS+=("${FUZZ_PKGS[@]}") ;;
    --slurm) BUILD_PKGS+=("${SLURM_PKGS[@]}") ;;
    *) die "unknown argument '$arg' (use --download-only DIR, --list, --fuzz or --slurm)" ;;
  esac
done

command -v dpkg-query >/dev/null || die "this script needs a Debian-based system (dpkg-query not found)"
start=$(date +%s.%N)
elapsed() { awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
need=$(missing "${BUILD_PKGS[@]}" "${DATA_PKGS[@]}")
tools=$(missing_tools)
need=$(echo $need $tools)
if [ -z "$need" ]; then
  echo "setup-deps: all packages present ($(elapsed) s)"
  exit 0
fi
echo "setup-deps: installing $(echo $need | wc -w) packages (and what they depend on): $need"
export DEBIAN_FRONTEND=noninteractive
LOG=$(mktemp "${TMPDIR:-/tmp}/setup-deps.XXXXXX.log")
# apt's own output goes to a log, shown only when something fails.
fail() { tail -n 40 "$LOG" >&2; die "$* (full log: $LOG)"; }
$SUDO apt-get update -q >>"$LOG" 2>&1 || fail "apt-get update failed"
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q --no-install-recommends $need >>"$LOG" 2>&1; then
  for p in $need; do
    $SUDO apt-get install -y -q --no-install-recommends "$p" >>"$LOG" 2>&1 || fail "cannot install package '$p'"
  done
fi
still=$(echo $(missing "${BUILD_PKGS[@]}" "${DATA_PKGS[@]}") $(missing_tools))
[ -z "$still" ] || fail "packages still missing after install: $still"
count=$(grep -c '^Setting up ' "$LOG" || true)
rm -f "$LOG"
echo "setup-deps: done in $(elapsed) s ($count packages set up)"
