#!/usr/bin/env node
// Encoding speed of Hugging Face's tokenizers library (npm binding) on the embedded test split,
// measured as bench/tokenizers.cpp measures ReproBench's: the whole split as one string, then
// line by line, for every published tokenizer `make golden` fetched. Prints one line per tokenizer.
//
//   TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 \
//     node scripts/golden/bench_hf_tokenizers.js data/tokenizers data/embedded/test.txt [REPEATS]
//
// Each figure is the best of REPEATS runs (default 3) after one warm-up run, in MB/s of UTF-8 input,
// by wall time and by CPU time of the process (all threads; the difference shows contention).
// encode() is asynchronous in this binding; it is awaited call by call, so one call runs at a time.
"use strict";

const fs = require("fs");
const path = require("path");

const [dataArg, splitPath, repeatsArg] = process.argv.slice(2);
const dataDir = dataArg && path.resolve(dataArg);
if (!dataArg || !splitPath) {
  console.error("usage: bench_hf_tokenizers.js DATA_DIR SPLIT_TXT [REPEATS]");
  process.exit(2);
}
const repeats = Number(repeatsArg || 3);
const { Tokenizer } = require(path.join(dataDir, "npm", "node_modules", "tokenizers"));
const index = JSON.parse(fs.readFileSync(path.join(dataDir, "golden", "index.json"), "utf8"));
const text = fs.readFileSync(splitPath, "utf8");
const lines = text.split("\n").filter((l, i, a) => i + 1 < a.length || l !== "");
const mb = Buffer.byteLength(text, "utf8") / 1e6;
const lineMb = lines.reduce((n, l) => n + Buffer.byteLength(l, "utf8"), 0) / 1e6;

// Best [wall, cpu] seconds of `fn` over the repeats.
async function best(fn) {
  await fn();
  let wall = Infinity, cpu = Infinity;
  for (let i = 0; i < repeats; ++i) {
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / 1e9);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return [wall, cpu];
}

const rate = (megabytes, [wall, cpu]) => `${(megabytes / wall).toFixed(2)} MB/s (cpu ${(megabytes / cpu).toFixed(2)})`;

async function main() {
  console.log(`tokenizers ${require(path.join(dataDir, "npm", "node_modules", "tokenizers", "package.json")).version}, ` +
              `${mb.toFixed(2)} MB, ${lines.length} lines, best of ${repeats}`);
  for (const entry of index.tokenizers) {
    if (entry.name.includes("-")) continue;  // derived variants
    const t0 = process.hrtime.bigint();
    const tok = Tokenizer.fromFile(path.join(dataDir, entry.dir, "tokenizer.json"));
    const load = Number(process.hrtime.bigint() - t0) / 1e9;
    let ids = 0;
    const whole = await best(async () => {
      ids = (await tok.encode(text, null, { addSpecialTokens: false })).getLength();
    });
    const byLine = await best(async () => {
      for (const l of lines) await tok.encode(l, null, { addSpecialTokens: false });
    });
    console.log(`${entry.name}: load ${(load * 1000).toFixed(0)} ms, whole ${rate(mb, whole)} (${ids} ids), ` +
                `lines ${rate(lineMb, byLine)}`);
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
