#!/usr/bin/env python3
"""Causal attention forward + backward time per SDPA backend, on the GPU machine.

Usage: sdpa_backends.py [ITERS]   (run with /opt/torch/.venv/bin/python)

For the attention shapes scalelab trains (GPT-2-124M at batch 32 x 1024, CS336 TinyStories at
256 x 256, and the small sweep shapes at 256 x 256), times one causal scaled_dot_product_attention
forward and backward in bf16 with each backend PyTorch offers (flash, memory-efficient, cuDNN) and
with the default choice, and checks every backend's output and gradients against the math backend
in fp32. q, k, v are laid out as scalelab's attention makes them: (B, T, H, hd) buffers seen as
(B, H, T, hd). Prints one table row per shape and backend: milliseconds per forward + backward,
attention TFLOP/s (causal: half of 4·B·H·T²·hd forward, 2.5× that backward) and the largest
relative error.
"""
import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
import torch.nn.functional as F

SHAPES = [  # name, B, T, H, hd
    ("gpt2-124m b32", 32, 1024, 12, 64),
    ("tinystories b256", 256, 256, 16, 32),
    ("sweep 6x352 b256", 256, 256, 11, 32),
    ("sweep 3x64 b256", 256, 256, 2, 32),
]
BACKENDS = [("default", None), ("flash", SDPBackend.FLASH_ATTENTION),
            ("efficient", SDPBackend.EFFICIENT_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]


def make(B, T, H, hd, seed=0):
    """A (B, T, 3, H, hd) bf16 QKV buffer, as scalelab's attention reads it."""
    g = torch.Generator(device="cuda").manual_seed(seed)
    qkv = torch.randn(B, T, 3, H, hd, device="cuda", dtype=torch.float32, generator=g)
    return qkv.to(torch.bfloat16)


def heads(qkv):
    """q, k, v of a QKV buffer seen as (B, H, T, hd)."""
    return (t.transpose(1, 2) for t in qkv.unbind(2))


def run(backend, q, k, v):
    if backend is None:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    with sdpa_kernel([backend]):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name()}")
    rows = []
    for name, B, T, H, hd in SHAPES:
        # Reference: the math backend in fp32 on the same bf16-rounded inputs.
        qkv32 = make(B, T, H, hd).float().requires_grad_(True)
        q32, k32, v32 = heads(qkv32)
        dy = torch.randn(B, H, T, hd, device="cuda", generator=torch.Generator(device="cuda").manual_seed(1))
        with sdpa_kernel([SDPBackend.MATH]):
            y_ref = F.scaled_dot_product_attention(q32, k32, v32, is_causal=True)
        y_ref.backward(dy)
        g_ref = qkv32.grad
        flops = 0.5 * 4 * B * H * T * T * hd * 3.5
        for bname, backend in BACKENDS:
            qkv = make(B, T, H, hd).requires_grad_(True)
            q, k, v = heads(qkv)
            dyb = dy.to(torch.bfloat16)
            try:
                y = run(backend, q, k, v)
                y.backward(dyb)
            except RuntimeError as e:
                rows.append(f"{name} | {bname} | unavailable: {str(e).splitlines()[0][:80]}")
                continue
            err_y = ((y.float() - y_ref).norm() / y_ref.norm()).item()
            err_g = ((qkv.grad.float() - g_ref).norm() / g_ref.norm()).item()
            for _ in range(5):
                qkv.grad = None
                run(backend, q, k, v).backward(dyb)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            for _ in range(iters):
                qkv.grad = None
                run(backend, q, k, v).backward(dyb)
            end.record()
            torch.cuda.synchronize()
            ms = start.elapsed_time(end) / iters
            rows.append(f"{name} | {bname} | {ms:.3f} ms | {flops / ms / 1e9:.0f} TFLOP/s | "
                        f"rel err y {err_y:.1e} grad {err_g:.1e}")
    print("shape | backend | fwd+bwd | attention TFLOP/s | error vs fp32 math")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
