// The reference side of the tokenizer conformance test and benchmark: HuggingFace tokenizers
// (the Rust library, through its official Node binding, npm package `tokenizers`).
//   node hf_tokenize.js ids TOKENIZER_JSON CORPUS_JSONL OUT_JSONL
//       each corpus line is a JSON string; writes {"ids": [...], "decoded": "..."} per line
//       (ids with special tokens; decoded = decode(ids, skip_special_tokens=false))
//   node hf_tokenize.js time TOKENIZER_JSON TEXT_FILE MODE REPEATS
//       MODE lines: every line encoded on its own; document: the whole file as one text.
//       Prints the best seconds of REPEATS runs and the token count (set RAYON_NUM_THREADS=1
//       for one thread); each run loads the tokenizer afresh, so its word cache starts empty.
// The module is found through NODE_PATH (the test set-up's npm cache).
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function ids(tokenizerPath, corpusPath, outPath) {
  const tok = Tokenizer.fromFile(tokenizerPath);
  const texts = fs.readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  const encodings = await tok.encodeBatch(texts, { addSpecialTokens: true });
  const idLists = encodings.map((e) => Array.from(e.getIds()));
  const decoded = await tok.decodeBatch(idLists, false);
  fs.writeFileSync(outPath, idLists.map((ids, i) => JSON.stringify({ ids, decoded: decoded[i] })).join('\n') + '\n');
}

async function time(tokenizerPath, textPath, mode, repeats) {
  const text = fs.readFileSync(textPath, 'utf8');
  const inputs = mode === 'document' ? [text] : text.split('\n');
  let best = Infinity, count = 0;
  for (let r = 0; r < repeats; ++r) {
    const tok = Tokenizer.fromFile(tokenizerPath);
    const t0 = process.hrtime.bigint();
    // One call: the batch runs in Rust (one thread with RAYON_NUM_THREADS=1), each line on its
    // own; the ids are read out after the clock stops.
    const encodings = await tok.encodeBatch(inputs, { addSpecialTokens: false });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    count = encodings.reduce((n, e) => n + e.getLength(), 0);
  }
  console.log(`${best} ${count}`);
}

const [cmd, ...rest] = process.argv.slice(2);
(cmd === 'ids' ? ids(rest[0], rest[1], rest[2]) : time(rest[0], rest[1], rest[2], Number(rest[3] || 3))).catch((e) => {
  console.error(`hf_tokenize: ${e.message || e}`);
  process.exit(1);
});
