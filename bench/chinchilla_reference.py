#!/usr/bin/python3
"""Reference for `scalelab fit`: the `chinchilla` package's fitting procedure, re-implemented from its
documentation (github.com/kyo-takano/chinchilla, docs/api-reference.md and core.py's description):
  - objective: mean over runs of the loss function on predicted vs actual loss, evaluated in
    numpy longdouble; prediction E + exp(a - alpha*log N) + exp(b - beta*log D) with E = exp(e) for an
    `e` grid axis, and a, b taken as logs (`A`/`B` axes are values, logged inside);
  - scipy.optimize.fmin_l_bfgs_b from every grid point with a finite-difference gradient (approx_grad)
    and scipy's default tolerances; coordinates scaled by each grid axis's range; best objective wins;
  - a multiprocessing pool over starts.
It is a peer baseline for docs/benchmarks.md (the package itself is not installable here: PyPI is not
reachable), run with Debian's python3-numpy and python3-scipy.

usage: chinchilla_reference.py FILE.csv [--grid paper|readme] [--loss log-huber|asymmetric-mae]
                               [--delta 1e-3] [--workers 2] [--limit N] [--tight]
"""
import argparse, csv, itertools, math, multiprocessing as mp, sys, time
import numpy as np
from scipy.optimize import fmin_l_bfgs_b

DT = np.longdouble
TINY = np.finfo(np.single).tiny
LOGMAX = np.log(np.finfo(np.single).max)

def huber(err, delta):
    a = np.abs(err)
    return np.where(a < delta, err * err / 2, delta * (a - delta / 2))

def make_loss(name, delta, w):
    if name == "log-huber":
        return lambda y, p: huber(np.log(y) - np.log(p), delta)
    if name == "huber":
        return lambda y, p: huber(y - p, delta)
    if name == "mse":
        return lambda y, p: (y - p) ** 2
    if name == "mae":
        return lambda y, p: np.abs(y - p)
    def asym(y, p):
        e = y - p
        return np.where(e < 0, -w * e, e)
    return asym

G = {}

def objective(x):
    s = G
    e, a, b, al, be = x.astype(DT) * s["scale"]
    E = np.exp(e) if s["keys"][0] == "e" else e
    if s["keys"][1] == "A":
        a = np.log(np.clip(a, TINY, None))
    if s["keys"][2] == "B":
        b = np.log(np.clip(b, TINY, None))
    t2 = np.clip(a - al * s["logN"], None, LOGMAX)
    t3 = np.clip(b - be * s["logD"], None, LOGMAX)
    pred = E + np.exp(t2) + np.exp(t3)
    return float(np.mean(s["loss"](s["y"], pred)))

def init(state):
    G.update(state)

def run(x0):
    kw = dict(factr=10.0, pgtol=1e-14) if G.get("tight") else {}
    x, f, _ = fmin_l_bfgs_b(objective, x0, approx_grad=True, maxiter=1_000_000, maxfun=1_000_000, **kw)
    return (x, f) if np.isfinite(f) else None

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--grid", default="paper", choices=["paper", "readme"])
    ap.add_argument("--loss", default="log-huber")
    ap.add_argument("--delta", type=float, default=1e-3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N starts")
    ap.add_argument("--tight", action="store_true",
                    help="scipy tolerances factr=10, pgtol=1e-14 instead of the package's defaults")
    o = ap.parse_args()
    rows = list(csv.DictReader(open(o.csv)))
    N = np.array([float(r["N"]) for r in rows], dtype=DT)
    D = np.array([float(r["D"]) for r in rows], dtype=DT)
    y = np.array([float(r["loss"]) for r in rows], dtype=DT)
    if o.grid == "paper":
        keys = ("e", "a", "b", "alpha", "beta")
        axes = [np.arange(-1, 1.5, 0.5), np.arange(0, 30, 5), np.arange(0, 30, 5), np.arange(0, 2.5, 0.5),
                np.arange(0, 2.5, 0.5)]
    else:  # the package README's example grid
        keys = ("E", "A", "B", "alpha", "beta")
        axes = [np.linspace(1.1, 1.5, 5), np.linspace(200, 1000, 5), np.linspace(200, 1000, 5),
                np.linspace(0.1, 0.5, 5), np.linspace(0.1, 0.5, 5)]
    scale = np.array([np.ptp(a) or 1.0 for a in axes], dtype=float)
    starts = [np.array(p) / scale for p in itertools.product(*axes)]
    if o.limit:
        starts = starts[: o.limit]
    state = dict(scale=scale.astype(DT), keys=keys, logN=np.log(N), logD=np.log(D), y=y,
                 loss=make_loss(o.loss, o.delta, 10.0), tight=o.tight)
    t0 = time.time()
    with mp.Pool(o.workers, initializer=init, initargs=(state,)) as pool:
        res = [r for r in pool.imap_unordered(run, starts, chunksize=8) if r]
    dt = time.time() - t0
    x, f = min(res, key=lambda r: r[1])
    p = x * scale
    E = math.exp(p[0]) if keys[0] == "e" else p[0]
    A = math.exp(p[1]) if keys[1] == "a" else p[1]
    B = math.exp(p[2]) if keys[2] == "b" else p[2]
    print(f"runs {len(y)} starts {len(starts)} loss {o.loss} workers {o.workers} tight {o.tight}")
    print(f"E {E:.6g} A {A:.6g} B {B:.6g} alpha {p[3]:.6g} beta {p[4]:.6g} objective {f:.9g}")
    print(f"seconds {dt:.1f}")

if __name__ == "__main__":
    main()
