#!/usr/bin/env bash
# Checks that the README's commands work on a bare Debian 12, as a new user's machine would be:
# builds a minimal root with debootstrap (--variant=minbase), adds only make, git and CA
# certificates, clones the committed checkout into it, and runs inside it, each timed:
#
#   make setup
#   make test
#   make reproduce TABLE=examples/layer_error
#
#   scripts/check-fresh.sh [--keep] [--dir DIR] [--mirror URL] [--suite NAME]
#     --keep        leave the root in place afterwards (it is removed by default)
#     --dir DIR     where to build the root (default: a new folder under /var/tmp)
#     --mirror URL  Debian mirror (default: the first one in this machine's apt sources)
#     --suite NAME  Debian release (default: bookworm)
#
# Needs root, network access to a Debian mirror and the npm registry, a few GB of disk, and
# 20-30 minutes on 2 cores (the build inside the root starts with an empty compiler cache).
# Only committed work is checked: the root gets a `git clone` of HEAD. The logs of each step
# are kept in $LOGS (default build/check-fresh/). Mounts are undone on every exit path.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SUITE=bookworm
MIRROR=""
DIR=""
KEEP=0
LOGS=${LOGS:-$REPO/build/check-fresh}

die() { echo "check-fresh: error: $*" >&2; exit 1; }
say() { echo "check-fresh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --dir) DIR=${2:?--dir needs a folder}; shift ;;
    --mirror) MIRROR=${2:?--mirror needs a URL}; shift ;;
    --suite) SUITE=${2:?--suite needs a name}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mounts)"
command -v git >/dev/null || die "git not found"
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null \
    || die "cannot install debootstrap: run 'apt-get update' first?"
fi
if [ -z "$MIRROR" ]; then
  MIRROR=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
             /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security \
           | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*$//' | head -n1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
if ! git -C "$REPO" diff --quiet HEAD 2>/dev/null; then
  say "note: the working tree has uncommitted changes; only HEAD ($(git -C "$REPO" rev-parse --short HEAD)) is checked"
fi

ROOT=${DIR:-$(mktemp -d /var/tmp/repro-fresh.XXXXXX)}
mkdir -p "$ROOT" "$LOGS"
LOGS=$(cd "$LOGS" && pwd)

# Undo every mount under the root, deepest first, then remove the root unless --keep.
cleanup() {
  local rc=$? m
  for m in $(awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "check-fresh: could not unmount $m" >&2
  done
  if [ "$KEEP" = 1 ]; then
    say "kept the root at $ROOT"
  elif awk -v r="$ROOT/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    echo "check-fresh: mounts remain under $ROOT; not removing it" >&2
  else
    rm -rf "$ROOT"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
results=()

# Runs "$@" with its output in $LOGS/<name>.log, times it, and stops the check on failure.
step() {
  local name=$1 t
  shift
  say "$name ..."
  t=$(now)
  if ! "$@" >"$LOGS/$name.log" 2>&1; then
    tail -n 30 "$LOGS/$name.log" >&2
    die "step '$name' failed after $(since "$t") s (log: $LOGS/$name.log)"
  fi
  results+=("$(printf '%-28s %8s s' "$name" "$(since "$t")")")
  say "$name: $(since "$t") s"
}

# Inside the root: a login-like environment with nothing from this machine's.
NODE_CA=""
in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 $NODE_CA \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -lc "$1"
}

step debootstrap debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR"
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
mkdir -p "$ROOT/dev/shm" && mount -t tmpfs shm "$ROOT/dev/shm"

step "apt: make git ca-certificates" in_root \
  "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make git ca-certificates"
# The root shares this machine's network. Where that network re-signs TLS with a local authority
# (a sandbox or corporate proxy: its certificates are in /usr/local/share/ca-certificates here), the
# root trusts the same authorities, as this machine's users do; a real fresh machine needs none.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  step "local CA certificates" in_root "update-ca-certificates"
  NODE_CA="NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt"
fi
step "git clone" git clone --quiet --no-hardlinks "$REPO" "$ROOT/root/repro"
step "make setup" in_root "cd /root/repro && make setup"
step "make test" in_root "cd /root/repro && make test"
step "make reproduce" in_root "cd /root/repro && make reproduce TABLE=examples/layer_error"
for f in md tex csv; do
  [ -s "$ROOT/root/repro/results/examples/layer_error.$f" ] || die "make reproduce wrote no layer_error.$f"
done

say "all steps passed on a fresh $SUITE (minbase) root; logs in $LOGS"
printf '  %s\n' "${results[@]}"
grep -E '^(== setup|  [a-z]+ +[0-9.]+ s)' "$LOGS/make setup.log" | sed 's/^/    /' || true
grep -E 'tests passed|Total Test time' "$LOGS/make test.log" | sed 's/^/    /' || true
