#!/usr/bin/env node
// Peer baseline for encoding throughput: npm `tiktoken` (OpenAI's tiktoken compiled to WebAssembly,
// single thread) encoding a text file with one encoding (gpt2, cl100k_base, o200k_base), special
// tokens treated as text (encode_ordinary semantics). Also checks its ids against a scalelab token
// file when given.
// Usage: node tiktoken_encode_bench.js FILE [--encoding gpt2] [--module DIR] [--compare FILE.bin]
//        [--repeat 3]
'use strict';
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
const opt = { file: null, module: '/tmp/hf-tok/node_modules/tiktoken', compare: null, repeat: 3, encoding: 'gpt2' };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--module') opt.module = args[++i];
  else if (args[i] === '--compare') opt.compare = args[++i];
  else if (args[i] === '--repeat') opt.repeat = parseInt(args[++i], 10);
  else if (args[i] === '--encoding') opt.encoding = args[++i];
  else opt.file = args[i];
}
if (!opt.file) { console.error('usage: tiktoken_encode_bench.js FILE [--module DIR] [--compare FILE.bin]'); process.exit(2); }
const { get_encoding } = require(opt.module);
const enc = get_encoding(opt.encoding);
const text = fs.readFileSync(opt.file, 'utf8');
const bytes = Buffer.byteLength(text, 'utf8');
let best = Infinity, ids = null;
for (let r = 0; r < opt.repeat; r++) {
  const t0 = process.hrtime.bigint();
  ids = enc.encode_ordinary(text);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.min(best, s);
}
const res = { encoding: opt.encoding, package: 'tiktoken@' + require(path.join(opt.module, 'package.json')).version, bytes, tokens: ids.length,
              best_seconds: +best.toFixed(3), MB_per_s: +(bytes / 1e6 / best).toFixed(2) };
if (opt.compare) {
  const side = JSON.parse(fs.readFileSync(opt.compare + '.json', 'utf8'));
  const buf = fs.readFileSync(opt.compare);
  const ours = side.dtype === 'uint16' ? new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2)
                                       : new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  let same = ours.length === ids.length;
  for (let i = 0; same && i < ids.length; i++) same = ours[i] === ids[i];
  res.identical_to_scalelab = same;
}
enc.free();
console.log(JSON.stringify(res));
