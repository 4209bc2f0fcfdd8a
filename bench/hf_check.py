"""Issue 14's transformers check: an exported scalelab model against Hugging Face transformers.

Usage: python hf_check.py HF_DIR REFERENCE.safetensors [TOLERANCE]

HF_DIR is `scalelab export`'s output; REFERENCE is bench/hf_logits' output for the same checkpoint
(scalelab's fp32 logits on a fixed batch, a prompt and its 32 greedy ids). Loads HF_DIR with
AutoModelForCausalLM and AutoTokenizer (fp32, CPU), compares the logits (max |difference| within
TOLERANCE, default 1e-4) and the greedy continuation (identical ids), and checks that the
tokenizer round-trips the prompt. Prints one line per check; exits non-zero when one fails.
"""
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    hf_dir, ref_path = sys.argv[1], sys.argv[2]
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    ref = load_file(ref_path)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(hf_dir)
    ok = True
    with torch.no_grad():
        logits = model(ref["ids"]).logits
    diff = (logits - ref["logits"]).abs().max().item()
    scale = ref["logits"].abs().max().item()
    good = diff <= tol
    ok &= good
    print(f"logits {tuple(logits.shape)}: max |transformers - scalelab| {diff:.3g} "
          f"(largest logit {scale:.3g}; tolerance {tol:g}) {'ok' if good else 'FAIL'}")
    n = ref["generated"].numel()
    model.generation_config.eos_token_id = None  # scalelab's reference did not stop early either
    model.generation_config.pad_token_id = 0
    with torch.no_grad():
        out = model.generate(ref["prompt"][None], max_new_tokens=n, do_sample=False)
    ids = out[0, ref["prompt"].numel():]
    same = torch.equal(ids, ref["generated"])
    ok &= same
    print(f"greedy {n} tokens: {'identical ids' if same else 'DIFFER'}: "
          f"{ids.tolist()[:12]}... vs {ref['generated'].tolist()[:12]}...")
    text = tok.decode(ref["prompt"].tolist())
    back = tok(text, add_special_tokens=False)["input_ids"]
    same = back == ref["prompt"].tolist()
    ok &= same
    print(f"tokenizer: decode/encode of the prompt {'round-trips' if same else 'DIFFERS'} "
          f"({len(back)} ids, {text[:40]!r}...)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
