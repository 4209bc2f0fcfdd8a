#!/usr/bin/python3
"""`import scalelab` against the named Python-side peers, same machine, same run (docs/benchmarks.md):

  1. scalelab.fit on the Chinchilla paper's 234 runs from Python, log-Huber delta 1e-3, no bootstrap:
     method="grid" (the paper's 4,500 starts, the package's procedure) and "varpro" (the default),
     best of 5 wall times -- vs bench/chinchilla_reference.py (the `chinchilla` package's procedure:
     scipy L-BFGS-B with finite differences from the same 4,500 starts, a process pool over the cores),
     run once in the same call; the parameters side by side.
  2. Tokenizer.encode_batch (cl100k_base, tests/data/tokenizers' rank file, specials as text) on a
     text split into documents at blank lines, 1 thread and all cores, best of 3 -- vs npm tiktoken
     (bench/tiktoken_encode_bench.js, WebAssembly, one thread, encode_ordinary of the whole text);
     the ids of Tokenizer.encode(whole text) compared with tiktoken's.

usage: PYTHONPATH=build/python bench/python_bench.py TEXT_FILE [--no-reference]
       (TEXT_FILE: e.g. the docs corpus of ../shared/bench/make_docs_corpus.sh, specials removed;
        tiktoken from `npm install tiktoken` in /tmp/hf-tok, as bench/tokenizer_bench.sh does)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import scalelab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def best_of(n, f):
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    text_file = sys.argv[1]
    reference = "--no-reference" not in sys.argv
    cores = os.cpu_count()
    print(f"== 1. fit from Python: Chinchilla paper runs (234), log-Huber 1e-3, {cores} cores")
    runs = scalelab.chinchilla_paper_runs()
    for method in ("grid", "varpro"):
        t, law = best_of(5, lambda: scalelab.fit(runs, method=method, bootstrap=0))
        p = law.params
        print(f"scalelab.fit {method:<6} {t:8.4f} s  E {p['E']:.5g} A {p['A']:.5g} B {p['B']:.5g} "
              f"alpha {p['alpha']:.5g} beta {p['beta']:.5g} objective {law.fit_info['objective']:.9g}")
    if reference:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "chinchilla_reference.py"),
                              os.path.join(ROOT, "data", "chinchilla_paper_runs.csv"),
                              "--workers", str(cores)], check=True, capture_output=True, text=True).stdout
        print(f"chinchilla procedure (scipy), whole process {time.perf_counter() - t0:.1f} s:")
        print("  " + out.strip().replace("\n", "\n  "))

    print(f"== 2. Tokenizer.encode_batch, cl100k_base, {os.path.getsize(text_file) / 1e6:.1f} MB")
    tok = scalelab.Tokenizer.load(os.path.join(ROOT, "tests", "data", "tokenizers", "cl100k_base.tiktoken"))
    with open(text_file, encoding="utf-8", newline="") as f:
        text = f.read()
    mb = len(text.encode()) / 1e6
    docs = [d for d in text.split("\n\n") if d]
    for threads in (1, cores):
        t, ids = best_of(3, lambda: tok.encode_batch(docs, ordinary=True, threads=threads))
        n = sum(len(x) for x in ids)
        print(f"scalelab encode_batch {len(docs)} docs, {threads} thread(s): {mb / t:7.2f} MB/s "
              f"({n:,} tokens)")
    t, whole = best_of(3, lambda: tok.encode(text, ordinary=True))
    print(f"scalelab encode (one string), 1 thread:          {mb / t:7.2f} MB/s ({len(whole):,} tokens)")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ids.bin")
        whole.astype(np.uint32).tofile(path)
        with open(path + ".json", "w") as f:
            json.dump({"dtype": "uint32"}, f)
        out = subprocess.run(["node", os.path.join(ROOT, "bench", "tiktoken_encode_bench.js"), text_file,
                              "--encoding", "cl100k_base", "--compare", path],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        print(f"npm {r['package']} encode_ordinary, 1 thread:  {r['MB_per_s']:7.2f} MB/s "
              f"({r['tokens']:,} tokens), ids identical to scalelab.encode: {r['identical_to_scalelab']}")


if __name__ == "__main__":
    main()
