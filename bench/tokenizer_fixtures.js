#!/usr/bin/env node
// Writes the tokenizer exactness fixtures under tests/data/tokenizers/ (committed; CI has no npm):
//   cl100k_base.tiktoken, o200k_base.tiktoken  tiktoken's rank files ("base64 rank" per line), from the
//                                              ranks npm `tiktoken` bundles
//   stress.txt                                 a generated Unicode stress text (fixed seed, below)
//   <text>.<encoding>.<mode>.ids               npm tiktoken's ids, space-separated: mode `ordinary` is
//                                              encode_ordinary, `special` is encode(text, "all") (only
//                                              where the two differ)
//   With --hf DIR (a tokenizer directory from `scalelab tokenizer train`, e.g. --pattern llama3):
//   DIR's tokenizer.json copied as <name>.tokenizer.json and HF tokenizers' ids as <text>.<name>.ids
//   (npm `tokenizers`, add_special_tokens false).
// Texts: ../shared/data/cs336/{corpus.en, tinystories_sample.txt, address.txt, german.txt} and
// stress.txt. Usage: node bench/tokenizer_fixtures.js OUT_DIR [--modules DIR] [--hf DIR NAME]...
'use strict';
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
let out = null, modules = '/tmp/hf-tok/node_modules';
const hf = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--modules') modules = args[++i];
  else if (args[i] === '--hf') { hf.push([args[i + 1], args[i + 2]]); i += 2; }
  else out = args[i];
}
if (!out) { console.error('usage: tokenizer_fixtures.js OUT_DIR [--modules DIR] [--hf DIR NAME]...'); process.exit(2); }
fs.mkdirSync(out, { recursive: true });
const shared = path.join(__dirname, '..', '..', 'shared', 'data', 'cs336');

// The stress text: a fixed xorshift32 stream picks pieces from a palette of every kind of character
// the patterns treat differently, and code points from blocks assigned since Unicode 6 or earlier (so
// every Unicode version involved, ICU 72's 15.0 included, classifies them alike).
let state = 20261203;
function rnd(n) { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state % n; }
const pieces = ['the', 'The', 'THE', 'CamelCase', 'HTTPServer', 'iPhone', "don't", "DON'T", "we'll", "I'M", "they're",
  "'s", "'S", "'\u017F", "\u2019s", 'x\u2019ll', '12345', '3.14159', '1,000,000', '\u0663\u0664\u0665', '\u0967\u0968\u0969',
  '\u2167', '\u00BD', ' ', ' ', ' ', '  ', '   ', '\n', '\n\n', '\r\n', '\t', ' \n', '\n ', '\u00A0', '\u3000', '\u2003',
  '\u0085', '\u200B', '\u180E', '...', '://', '/', '//', '!?', '--', '(', ')', '"', "'", '#', '@', '$', '%', '&', '*',
  'e\u0301', 'a\u0308', '\u0301', 'n\u0303o', '\u01C5', '\u02B0', '\u3005', '\u00C9cole', '\u00E9t\u00E9',
  '\u0391\u03B8\u03AE\u03BD\u03B1', '\u041C\u043E\u0441\u043A\u0432\u0430', '\u05E9\u05DC\u05D5\u05DD',
  '\u0627\u0644\u0639\u0631\u0628\u064A\u0629', '\u0939\u093F\u0928\u094D\u0926\u0940', '\u0E20\u0E32\u0E29\u0E32',
  '\u4E2D\u6587', '\u3072\u3089\u304C\u306A', '\uD55C\uAD6D\uC5B4', '\uD83D\uDE00', '\uD83D\uDC4D\uD83C\uDFFD',
  '\uFF21\uFF42\uFF43', 'stra\u00DFe', '\u0130stanbul', '<|endoftext|>', '<|endofprompt|>', '<|fim_prefix|>'];
const blocks = [[0x41, 0x5A], [0x61, 0x7A], [0x30, 0x39], [0x21, 0x2F], [0xC0, 0xFF], [0x100, 0x17F], [0x300, 0x36F],
  [0x391, 0x3A9], [0x3B1, 0x3C9], [0x410, 0x44F], [0x5D0, 0x5EA], [0x621, 0x63A], [0x641, 0x64A], [0x660, 0x669],
  [0x905, 0x939], [0x966, 0x96F], [0xE01, 0xE30], [0x3041, 0x3096], [0x4E00, 0x9FA5], [0xAC00, 0xD7A3],
  [0x2000, 0x200A], [0x2010, 0x2027], [0x1F600, 0x1F64F]];
let stress = '';
while (stress.length < 50000) {
  if (rnd(3) === 0) {
    const b = blocks[rnd(blocks.length)];
    const n = 1 + rnd(6);
    for (let k = 0; k < n; k++) stress += String.fromCodePoint(b[0] + rnd(b[1] - b[0] + 1));
  } else {
    stress += pieces[rnd(pieces.length)];
  }
}
fs.writeFileSync(path.join(out, 'stress.txt'), stress);

const texts = { 'corpus.en': path.join(shared, 'corpus.en'), 'tinystories_sample': path.join(shared, 'tinystories_sample.txt'),
  'address': path.join(shared, 'address.txt'), 'german': path.join(shared, 'german.txt'), 'stress': path.join(out, 'stress.txt') };

const { get_encoding } = require(path.join(modules, 'tiktoken'));
for (const name of ['cl100k_base', 'o200k_base']) {
  const j = JSON.parse(fs.readFileSync(path.join(modules, 'tiktoken', 'encoders', name + '.json'), 'utf8'));
  // bpe_ranks: "! <first rank> <base64> <base64> …", ranks consecutive from the first.
  const parts = j.bpe_ranks.split(' ');
  if (parts[0] !== '!') throw new Error(name + ': unexpected bpe_ranks format');
  let rank = parseInt(parts[1], 10);
  const lines = [];
  for (let i = 2; i < parts.length; i++) lines.push(parts[i] + ' ' + rank++);
  fs.writeFileSync(path.join(out, name + '.tiktoken'), lines.join('\n') + '\n');
  const enc = get_encoding(name);
  for (const [t, file] of Object.entries(texts)) {
    const text = fs.readFileSync(file, 'utf8');
    const ordinary = Array.from(enc.encode_ordinary(text)).join(' ');
    const special = Array.from(enc.encode(text, 'all')).join(' ');
    fs.writeFileSync(path.join(out, `${t}.${name}.ordinary.ids`), ordinary + '\n');
    // Only where special tokens make a difference (the test then expects the ordinary ids).
    if (special !== ordinary) fs.writeFileSync(path.join(out, `${t}.${name}.special.ids`), special + '\n');
  }
  enc.free();
  console.log(`${name}: ${lines.length} ranks, ids of ${Object.keys(texts).length} texts`);
}

(async () => {
  if (!hf.length) return;
  const { Tokenizer } = require(path.join(modules, 'tokenizers'));
  for (const [dir, name] of hf) {
    fs.copyFileSync(path.join(dir, 'tokenizer.json'), path.join(out, name + '.tokenizer.json'));
    const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    for (const [t, file] of Object.entries(texts)) {
      const enc = await tok.encode(fs.readFileSync(file, 'utf8'), null, { addSpecialTokens: false });
      fs.writeFileSync(path.join(out, `${t}.${name}.ids`), Array.from(enc.getIds()).join(' ') + '\n');
    }
    console.log(`${name}: HF tokenizers ids of ${Object.keys(texts).length} texts`);
  }
})();
