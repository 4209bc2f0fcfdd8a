#!/usr/bin/env node
// Compatibility check: HuggingFace tokenizers (npm `tokenizers`) loads the tokenizer.json that
// `scalelab tokenizer train` / `export-hf` writes, encodes a text file, and must produce exactly the ids
// of `scalelab tokenizer encode` (FILE.bin + FILE.bin.json). Exit status 1 on any difference.
// Usage: node hf_compat.js TOKENIZER_JSON TEXT_FILE SCALELAB_BIN [--module DIR]
'use strict';
const fs = require('fs');
const args = process.argv.slice(2);
let mod = '/tmp/hf-tok/node_modules/tokenizers';
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--module') mod = args[++i]; else pos.push(args[i]);
}
if (pos.length !== 3) { console.error('usage: hf_compat.js TOKENIZER_JSON TEXT_FILE SCALELAB_BIN'); process.exit(2); }
const [tokJson, textFile, bin] = pos;
const { Tokenizer } = require(mod);
(async () => {
  const tok = Tokenizer.fromFile(tokJson);
  const text = fs.readFileSync(textFile, 'utf8');
  const enc = await tok.encode(text, null, { addSpecialTokens: false });
  const hf = enc.getIds();
  const side = JSON.parse(fs.readFileSync(bin + '.json', 'utf8'));
  const buf = fs.readFileSync(bin);
  const ours = side.dtype === 'uint16' ? new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2)
                                       : new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  let first = -1;
  const n = Math.min(hf.length, ours.length);
  for (let i = 0; i < n; i++) if (hf[i] !== ours[i]) { first = i; break; }
  if (first < 0 && hf.length !== ours.length) first = n;
  const ok = first < 0;
  console.log(JSON.stringify({ tokenizer: tokJson, text: textFile, hf_tokens: hf.length, scalelab_tokens: ours.length,
                               identical: ok, first_difference: ok ? null : first }));
  process.exit(ok ? 0 : 1);
})();
