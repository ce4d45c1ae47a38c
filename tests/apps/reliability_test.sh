#!/usr/bin/env bash
# Crash safety and concurrency through the `repro` command line (issue: reliability):
#  1. kill: a table run is SIGKILLed at random points KILLS times (during start-up, rows, the report);
#     then a run completes, and every record must be valid, every row recorded exactly once (the
#     journal shows no recorded row computed again) and no temporary file left behind;
#  2. concurrent: two processes reproduce one table at once; they split the rows (none is computed
#     twice), both finish with exit 0 and the whole report, and the plots are whole.
#   tests/apps/reliability_test.sh <path to repro> [KILLS=15] [SEED=1]
# `make soak` runs it with many more kills.
set -uo pipefail
REPRO=${1:?usage: reliability_test.sh <repro binary> [kills] [seed]}
KILLS=${2:-15}
RANDOM=${3:-1}
T=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# 24 rows of a synthetic 256x256 layer: each row takes a fraction of a second, the table a few.
mkdir -p "$T/cfg/rel"
cat >"$T/cfg/rel/layers.toml" <<'TOML'
[table]
title = "Reliability test: a 256x256 synthetic layer"
suite = "layer_error"
metrics = ["rel_error", "bits_per_weight"]

[suite]
out_features = 256
in_features = 256
n_tokens = 1024

[[rows]]
label = "Magnitude"
compressor = { method = "magnitude", sparsity = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] }

[[rows]]
label = "RTN"
compressor = { method = "rtn", bits = [2, 3, 4, 5, 6, 8], group_size = [32, 64] }

[[rows]]
label = "Wanda"
compressor = { method = "wanda", sparsity = [0.3, 0.5, 0.7, 0.9] }

[[plots]]
name = "pareto"
x = "bits_per_weight"
y = "rel_error"
TOML
CFG="$T/cfg/rel/layers.toml"
ROWS=24

# check <results dir> <what>: every record valid, each row recorded once, nothing half-written.
check() {
  local res=$1 what=$2
  "$REPRO" verify "$CFG" --results-dir "$res" >"$T/verify" 2>&1 || fail "$what: repro verify: $(cat "$T/verify")"
  grep -q "^rel/layers: $ROWS records ($ROWS ok, 0 errors)" "$T/verify" || fail "$what: expected $ROWS ok records: $(head -1 "$T/verify")"
  local lines
  lines=$(grep -c '"status":"ok"' "$res/runs/rel/layers/journal.jsonl")
  # A kill between a record's rename and its journal line may lose the line, never add one.
  [ "$lines" -le "$ROWS" ] || fail "$what: $lines ok journal lines for $ROWS rows (a row was recorded twice)"
  local left
  left=$(find "$res" -name '*.tmp-[0-9]*' | wc -l)
  [ "$left" -eq 0 ] || fail "$what: $left temporary files left behind: $(find "$res" -name '*.tmp-[0-9]*' | head -3)"
  for ext in md csv; do [ -s "$res/rel/layers.$ext" ] || fail "$what: missing layers.$ext"; done
  if command -v gnuplot >/dev/null; then
    head -c 4 "$res/rel/layers-pareto.png" | grep -q PNG || fail "$what: layers-pareto.png is not a whole PNG"
    grep -q '</svg>' "$res/rel/layers-pareto.svg" || fail "$what: layers-pareto.svg is truncated"
  fi
}

# 1. Kills at random points.
RES="$T/killed"
kills=0 runs=0 start=$SECONDS
while :; do
  runs=$((runs + 1))
  "$REPRO" reproduce "$CFG" --results-dir "$RES" --no-progress >"$T/run.out" 2>&1 &
  pid=$!
  if [ "$kills" -lt "$KILLS" ]; then
    sleep "$((RANDOM % 25 / 10)).$((RANDOM % 10))"  # 0.0 .. 2.9 s
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      kills=$((kills + 1))
      continue
    fi
  fi
  wait "$pid"
  rc=$?
  [ "$rc" -eq 0 ] || { fail "run $runs after $kills kills exited $rc: $(tail -3 "$T/run.out")"; break; }
  [ "$kills" -ge "$KILLS" ] && break
  [ "$runs" -gt $((KILLS * 4)) ] && { fail "no end after $runs runs"; break; }
done
check "$RES" "after $kills kills"
echo "kill test: $kills kills over $runs runs in $((SECONDS - start)) s; final run: $(tail -1 "$T/run.out")"

# 2. Two processes on one table at once.
RES="$T/concurrent"
start=$SECONDS
"$REPRO" reproduce "$CFG" --results-dir "$RES" --no-progress >"$T/a.out" 2>&1 &
a=$!
"$REPRO" reproduce "$CFG" --results-dir "$RES" --no-progress >"$T/b.out" 2>&1 &
b=$!
wait "$a"; rca=$?
wait "$b"; rcb=$?
[ "$rca" -eq 0 ] && [ "$rcb" -eq 0 ] || fail "concurrent runs exited $rca and $rcb: $(tail -2 "$T/a.out") / $(tail -2 "$T/b.out")"
check "$RES" "after two concurrent runs"
ran_a=$(grep -o '[0-9]* ran' "$T/a.out" | grep -o '[0-9]*')
ran_b=$(grep -o '[0-9]* ran' "$T/b.out" | grep -o '[0-9]*')
[ "$((ran_a + ran_b))" -eq "$ROWS" ] || fail "the two processes ran $ran_a + $ran_b rows, expected $ROWS in all"
ok_lines=$(grep -c '"status":"ok"' "$RES/runs/rel/layers/journal.jsonl")
[ "$ok_lines" -eq "$ROWS" ] || fail "journal has $ok_lines ok lines, expected $ROWS"
echo "concurrency test: rows split $ran_a + $ran_b in $((SECONDS - start)) s: $(tail -1 "$T/a.out") | $(tail -1 "$T/b.out")"

[ "$fails" -eq 0 ] && echo "reliability test: all checks passed" || echo "reliability test: $fails failures"
exit $((fails > 0))
