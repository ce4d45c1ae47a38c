#!/usr/bin/env bash
# `repro compress` and `repro eval` end to end on zoo:micro (a few seconds per command): GPTQ 4-bit
# g128 and SparseGPT 2:4 written as compact (c), hf (a) and compressed-tensors (b); `repro eval` of
# (c) gives the in-memory compressed model's perplexity (printed by `compress --eval`; the same
# compressed forms, so to the last digit), of (a) the same within fp32 rounding; every folder has its recipe.toml; bad input exits 2 with one line,
# before any block is compressed. The structure of (b) is checked byte by byte in
# tests/suites/model_export_test.cpp.
#   tests/apps/export_test.sh <path to repro>
set -uo pipefail
REPRO=${1:?usage: export_test.sh <repro binary>}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
run() {  # run <name> <rc> -- command...: stdout in $T/<name>.out, stderr in $T/<name>.err
  local name=$1 want=$2; shift 3
  "$@" >"$T/$name.out" 2>"$T/$name.err"; local rc=$?
  [ "$rc" -eq "$want" ] || fail "$name: exit $rc, expected $want ($(head -c 600 "$T/$name.err"))"
}
ppl_of() { sed -n 's/.*"ppl":\([-0-9.eE+]*\).*/\1/p' "$1" | tail -1; }
close() {  # close <a> <b> <relative tolerance>
  awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t * b) }'
}

# The embedded excerpt (public-domain text) as all three splits: calibration and evaluation stay fast.
mkdir -p "$T/data/embedded"
for s in train valid test; do cp "$SRC/tests/fixtures/embedded_excerpt.txt" "$T/data/embedded/$s.txt"; done
DATA=(--data-dir "$T/data" --cache-dir off --no-progress --seq-len 128)
COMPRESS=("$REPRO" compress --model zoo:micro --calibration-samples 16 "${DATA[@]}")
EVAL=("$REPRO" eval "${DATA[@]}" --eval-windows 12 --json)

i=0
for spec in "gptq(bits=4,group_size=128)" "sparsegpt(pattern=2:4)"; do
  i=$((i + 1))
  # (c) compact, with the in-memory perplexity.
  run "c$i" 0 -- "${COMPRESS[@]}" --method "$spec" --format compact --out "$T/c$i" --eval --eval-windows 12 --json
  grep -q '^block 1/2: 7 linears' "$T/c$i.out" && grep -q '^block 2/2: 7 linears' "$T/c$i.out" \
    || fail "$spec: no progress line per block: $(cat "$T/c$i.out")"
  grep -q "^wrote $T/c$i (compact, " "$T/c$i.out" || fail "$spec: no size line: $(cat "$T/c$i.out")"
  mem=$(ppl_of "$T/c$i.out")
  [ -n "$mem" ] || fail "$spec: compress --eval --json printed no ppl"
  for f in config.json compressed.safetensors compression.json recipe.toml tokenizer.model; do
    [ -s "$T/c$i/$f" ] || fail "$spec: compact folder lacks $f"
  done
  R="$T/c$i/recipe.toml"
  grep -q "^format = 'compact'\|^format = \"compact\"" "$R" || fail "$spec: recipe format: $(cat "$R")"
  grep -q "^pipeline = .*${spec%%(*}(.*block_size=128" "$R" || fail "$spec: recipe pipeline lacks the defaults: $(cat "$R")"
  grep -q "^samples = 16" "$R" && grep -q "^seq_len = 128" "$R" && grep -q "^seed = 0" "$R" \
    || fail "$spec: recipe calibration settings: $(cat "$R")"
  grep -q "^files_sha256 = .[0-9a-f]\{64\}" "$R" && grep -q "^tokens_sha256 = .[0-9a-f]\{64\}" "$R" \
    || fail "$spec: recipe calibration fingerprints: $(cat "$R")"
  grep -q "^\[source\]" "$R" && grep -q "^sha256 = .[0-9a-f]\{64\}" "$R" || fail "$spec: recipe source fingerprint"
  grep -q "^git = " "$R" || fail "$spec: recipe has no git revision"

  run "ec$i" 0 -- "${EVAL[@]}" --model "$T/c$i"
  grep -q '"format":"compact"' "$T/ec$i.out" || fail "$spec: eval did not detect the compact format: $(cat "$T/ec$i.out")"
  close "$(ppl_of "$T/ec$i.out")" "$mem" 1e-9 || fail "$spec: compact eval ppl $(ppl_of "$T/ec$i.out") != in-memory $mem"

  # (a) hf: dense reconstructed weights in fp32.
  run "a$i" 0 -- "${COMPRESS[@]}" --method "$spec" --format hf --out "$T/a$i"
  [ -s "$T/a$i/model.safetensors" ] && [ -s "$T/a$i/recipe.toml" ] || fail "$spec: hf folder incomplete"
  run "ea$i" 0 -- "${EVAL[@]}" --model "$T/a$i"
  grep -q '"format":"hf"' "$T/ea$i.out" || fail "$spec: eval did not read hf: $(cat "$T/ea$i.out")"
  close "$(ppl_of "$T/ea$i.out")" "$mem" 1e-4 || fail "$spec: hf eval ppl $(ppl_of "$T/ea$i.out") not within fp32 rounding of $mem"

  # (b) compressed-tensors: written with its quantization_config; eval points to vLLM.
  run "b$i" 0 -- "${COMPRESS[@]}" --method "$spec" --format compressed-tensors --out "$T/b$i"
  grep -q '"quant_method": "compressed-tensors"' "$T/b$i/config.json" || fail "$spec: no quantization_config"
  [ -s "$T/b$i/recipe.toml" ] || fail "$spec: compressed-tensors folder has no recipe.toml"
  run "eb$i" 2 -- "${EVAL[@]}" --model "$T/b$i"
  grep -q 'vLLM' "$T/eb$i.err" || fail "eval of compressed-tensors should say where it loads: $(cat "$T/eb$i.err")"
done
grep -q '"quant' "$T/b1/config.json" && grep -q 'pack-quantized' "$T/b1/config.json" || fail "GPTQ should be pack-quantized"
grep -q 'sparse-24-bitmask' "$T/b2/config.json" || fail "SparseGPT 2:4 should be sparse-24-bitmask"

# Bad input: exit 2, one line, nothing compressed.
one_line() { [ "$(wc -l <"$T/$1.err")" -eq 1 ] || fail "$1: expected a one-line error: $(cat "$T/$1.err")"; }
run bad_spec 2 -- "${COMPRESS[@]}" --method "gptq(bits=4" --out "$T/x1"
one_line bad_spec
grep -q "pipeline 'gptq(bits=4'" "$T/bad_spec.err" || fail "bad spec should be quoted: $(cat "$T/bad_spec.err")"
run bad_method 2 -- "${COMPRESS[@]}" --method "gtpq(bits=4)" --out "$T/x2"
one_line bad_method
grep -q "did you mean 'gptq'" "$T/bad_method.err" || fail "unknown method should suggest gptq: $(cat "$T/bad_method.err")"
run bad_range 2 -- "${COMPRESS[@]}" --method "gptq(bits=9)" --out "$T/x3"
one_line bad_range
run bad_format 2 -- "${COMPRESS[@]}" --method "gptq" --format gguf --out "$T/x4"
one_line bad_format
run slr_ct 2 -- "${COMPRESS[@]}" --method "oats(pattern=2:4,rank=4,iterations=2)" --format compressed-tensors --out "$T/x5"
one_line slr_ct
grep -q 'low-rank' "$T/slr_ct.err" || fail "S+LR to compressed-tensors should name low-rank: $(cat "$T/slr_ct.err")"
grep -q '^block ' "$T/slr_ct.out" && fail "S+LR to compressed-tensors should stop before compressing: $(cat "$T/slr_ct.out")"
[ ! -e "$T/x5/config.json" ] || fail "a refused export should write nothing"
run not_empty 2 -- "${COMPRESS[@]}" --method "gptq" --out "$T/c1"
one_line not_empty
# --force over a folder of another format: read as what was written last.
run force 0 -- "${COMPRESS[@]}" --method "rtn(bits=4)" --format hf --out "$T/c1" --force
[ ! -e "$T/c1/compression.json" ] && [ ! -e "$T/c1/compressed.safetensors" ] || fail "--force left the compact files"
run force_eval 0 -- "${EVAL[@]}" --model "$T/c1"
grep -q '"format":"hf"' "$T/force_eval.out" || fail "--force hf over compact should read as hf: $(cat "$T/force_eval.out")"
for x in x1 x2 x3 x4; do [ ! -e "$T/$x" ] || fail "$x: a refused command should not create its --out"; done

[ "$fails" -eq 0 ] && echo "export_test: all checks passed"
exit $((fails > 0))
