#!/usr/bin/env bash
# End to end through the `repro` command line: a small layer_error table is reproduced, its report
# files checked, re-run from its records, and bad input is refused with exit code 2.
#   tests/apps/cli_test.sh <path to repro>
set -uo pipefail
REPRO=${1:?usage: cli_test.sh <repro binary>}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_rc() {  # expect_rc <rc> <description> -- command...
  local want=$1 what=$2; shift 3
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want ($(head -c 400 "$T/err"))"
}

mkdir -p "$T/cfg/cli"
cat >"$T/cfg/cli/tiny_layer.toml" <<'TOML'
[table]
title = "CLI test: a 64x64 synthetic layer"
suite = "layer_error"
metrics = ["rel_error", "bits_per_weight"]

[suite]
out_features = 64
in_features = 64
n_tokens = 256

[[rows]]
label = "Dense"

[[rows]]
label = "Magnitude"
compressor = { method = "magnitude", sparsity = [0.5, 0.75] }
paper = { rel_error = [0.1, nan] }

[[rows]]
label = "RTN"
compressor = { method = "rtn", bits = [3, 4], group_size = 32 }

[[claims]]
kind = "less"
metric = "rel_error"
a = "RTN [bits=4]"
b = "RTN [bits=3]"
text = "4 bits beat 3 bits"

[[claims]]
kind = "less"
metric = "rel_error"
a = "Magnitude [sparsity=0.75]"
b = "Magnitude [sparsity=0.5]"
text = "a deliberately false claim"

[[plots]]
name = "pareto"
x = "bits_per_weight"
y = "rel_error"
TOML
CFG="$T/cfg/cli/tiny_layer.toml"
RES="$T/results"

# Plan: five rows, none cached.
expect_rc 0 "dry run" -- "$REPRO" reproduce "$CFG" --results-dir "$RES" --dry-run
[ "$(grep -c ' missing ' "$T/out")" -eq 5 ] || fail "dry run should list 5 missing rows: $(cat "$T/out")"

# Run: report files, one record per row, claims evaluated.
expect_rc 0 "reproduce" -- "$REPRO" reproduce "$CFG" --results-dir "$RES" --no-progress
[ "$(ls "$RES/runs/cli/tiny_layer/"*.json 2>/dev/null | wc -l)" -eq 5 ] || fail "expected 5 records"
for ext in md tex csv; do [ -s "$RES/cli/tiny_layer.$ext" ] || fail "missing tiny_layer.$ext"; done
if command -v gnuplot >/dev/null; then
  for ext in svg png pdf; do [ -s "$RES/cli/tiny_layer-pareto.$ext" ] || fail "missing tiny_layer-pareto.$ext"; done
fi
[ "$(($(wc -l <"$RES/cli/tiny_layer.csv") - 1))" -eq 5 ] || fail "CSV should have 5 data rows"
grep -q '✓ 4 bits beat 3 bits' "$RES/cli/tiny_layer.md" || fail "claim '4 bits beat 3 bits' should pass"
grep -q '✗ a deliberately false claim' "$RES/cli/tiny_layer.md" || fail "the false claim should fail"
grep -q 'Magnitude \[sparsity=0.5\]' "$RES/cli/tiny_layer.md" || fail "row labels missing from the Markdown"
grep -q 'booktabs\|\\toprule' "$RES/cli/tiny_layer.tex" || fail "LaTeX table should use booktabs rules"
# Records: schema 2, peak memory of the row and of each phase, no GPU on a CPU row.
REC=$(ls "$RES/runs/cli/tiny_layer/"*.json | head -1)
grep -q '"schema": *2' "$REC" || fail "records should be schema 2: $(head -c 200 "$REC")"
grep -q '"compress.host"' $(grep -l '"rtn(' "$RES/runs/cli/tiny_layer/"*.json | head -1) ||
  fail "a compressed row should record the peak memory of its compress phase"
grep -q '"calibrate.host"' "$REC" || fail "every layer_error row should record its calibrate phase's peak memory"
grep -q '"gpu": *null' "$REC" || fail "a CPU row should record gpu = null"

# Second run: everything cached.
expect_rc 0 "re-run" -- "$REPRO" reproduce "$CFG" --results-dir "$RES" --no-progress
grep -q '5 cached, 0 ran, 0 failed' "$T/out" || fail "re-run should recompute nothing: $(tail -1 "$T/out")"

# One row again, and the report from the records alone.
expect_rc 0 "run-row" -- "$REPRO" run-row "$CFG" 1 --results-dir "$RES" --force --no-progress
rm -f "$RES/cli/tiny_layer.md"
expect_rc 0 "report" -- "$REPRO" report "$CFG" --results-dir "$RES"
[ -s "$RES/cli/tiny_layer.md" ] || fail "report did not rewrite the Markdown"

# An ad-hoc plot of the records: --join-x orders each series by x, --point-labels names the points.
if command -v gnuplot >/dev/null; then
  expect_rc 0 "plot" -- "$REPRO" plot "$CFG" --results-dir "$RES" --x bits_per_weight --y rel_error --join-x \
    --point-labels --out "$T/adhoc"
  [ -s "$T/adhoc.gp" ] && [ -s "$T/adhoc.dat" ] || fail "repro plot should write adhoc.gp and adhoc.dat"
  grep -q 'in x order' "$T/adhoc.gp" || fail "--join-x should join the series in x order: $(head -5 "$T/adhoc.gp")"
  grep -q "^set label 1 '" "$T/adhoc.gp" || fail "--point-labels should label the points"
fi

# Listing.
expect_rc 0 "list methods" -- "$REPRO" list methods
grep -q '^  magnitude ' "$T/out" && grep -q '^  rtn ' "$T/out" || fail "list methods should show magnitude and rtn"
grep -q 'bits .*int .*default 4' "$T/out" || fail "list methods should show rtn's parameters"
grep -q 'bits .*in \[2, 8\]' "$T/out" || fail "list methods should show parameter ranges"
grep -q 'mask_solver .*component .*a MaskSolver' "$T/out" || fail "list methods should show component parameters"
grep -q '^Suite:' "$T/out" && fail "list methods should not list suites"
expect_rc 0 "list suites" -- "$REPRO" list suites
grep -q '^  layer_error ' "$T/out" && grep -q '^  perplexity ' "$T/out" || fail "list suites should show layer_error and perplexity"
grep -q 'metric rel_error .*lower is better' "$T/out" || fail "list suites should show the suites' metrics"

# --help works on every subcommand, also those with required arguments.
for cmd in reproduce run-row report plot list train-zoo; do
  expect_rc 0 "$cmd --help" -- "$REPRO" $cmd --help
  grep -q "^usage: repro $cmd" "$T/out" || fail "$cmd --help should print its usage: $(head -c 300 "$T/out")"
done

# Bad input: one line, exit 2.
sed 's/bits = \[3, 4\]/bits = "four"/' "$CFG" >"$T/cfg/cli/bad_type.toml"
expect_rc 2 "ill-typed value" -- "$REPRO" reproduce "$T/cfg/cli/bad_type.toml" --results-dir "$RES"
grep -q 'bad_type.toml:[0-9]*: .*bits.*expected int' "$T/err" || fail "type error should name file:line, key and type: $(cat "$T/err")"
sed 's/^compressor = { method = "rtn"/compresor = { method = "rtn"/' "$CFG" >"$T/cfg/cli/bad_key.toml"
expect_rc 2 "unknown key" -- "$REPRO" reproduce "$T/cfg/cli/bad_key.toml" --results-dir "$RES"
grep -q "did you mean 'compressor'" "$T/err" || fail "unknown key should suggest 'compressor': $(cat "$T/err")"
# An out-of-range value in the last row of the sweep: refused when the table loads, before any row
# runs (no record is written).
sed 's/bits = \[3, 4\]/bits = [3, 4, 9]/' "$CFG" >"$T/cfg/cli/bad_range.toml"
expect_rc 2 "out-of-range value" -- "$REPRO" reproduce "$T/cfg/cli/bad_range.toml" --results-dir "$T/range_res"
grep -q 'bad_range.toml:[0-9]*: .*bits.*9 is out of range (must be in \[2, 8\])' "$T/err" \
  || fail "range error should name file:line, key and range: $(cat "$T/err")"
[ ! -d "$T/range_res/runs" ] || [ -z "$(find "$T/range_res/runs" -name '*.json')" ] || fail "no row should run before the range check"
expect_rc 2 "out-of-range value (dry run)" -- "$REPRO" reproduce "$T/cfg/cli/bad_range.toml" --results-dir "$T/range_res" --dry-run
expect_rc 2 "missing file" -- "$REPRO" reproduce "$T/cfg/cli/nope.toml"
expect_rc 2 "rows glob matching nothing" -- "$REPRO" reproduce "$CFG" --results-dir "$RES" --rows 'GPTQ*'
expect_rc 2 "unknown command" -- "$REPRO" reproduc
expect_rc 2 "unknown option" -- "$REPRO" reproduce "$CFG" --bogus
expect_rc 2 "unknown log level" -- "$REPRO" reproduce "$CFG" --results-dir "$RES" --log-level loud
grep -q "unknown log level 'loud'" "$T/err" || fail "a bad --log-level should be named: $(cat "$T/err")"

[ "$fails" -eq 0 ] && echo "cli_test: all checks passed"
exit $((fails > 0))
