#!/usr/bin/env python3
"""Cooldown branches against full cosine runs (issue 19's evidence), after a WSD sweep.

Usage: wsd_vs_cosine.py SWEEP_DIR OUT_JSON [--sizes 3] [--seeds 2] [--jobs 4] [--scalelab BIN]

Run in the directory the sweep ran in (its run configs name data paths relative to it). From the
sweep's runs.db it takes `--sizes` parent runs of different sizes (smallest, middle and largest N
among the parents with two or more finished branch points), and for each the parent's D and the
branch points nearest D/2 and D/4 (in log D). For each of these points it trains a full cosine run
from scratch with `scalelab train`: the same shape, data, batch, peak lr, final lr and AdamW as the
point, its own steps and warmup (5%), with seeds 0 … seeds-1, `--jobs` at a time on the GPU. Prints a
table (WSD point, cosine runs, the difference against their mean, and the cosine runs' spread between
seeds) and writes it to OUT_JSON.
"""
import argparse
import json
import math
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def load_runs(db_path):
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT id, status, N, D, C, loss, budget, config, extra FROM runs").fetchall()
    runs = []
    for id_, status, n, d, c, loss, budget, config, extra in rows:
        runs.append({"id": id_, "status": status, "N": n, "D": d, "C": c, "loss": loss,
                     "budget": budget, "config": json.loads(config), "extra": json.loads(extra)})
    return runs


def pick(runs, sizes):
    done = [r for r in runs if r["status"] == "done"]
    by_key = {r["extra"]["key"]: r for r in done}
    children = {}
    for r in done:
        p = r["extra"].get("parent_key")
        if isinstance(p, str) and p in by_key:
            children.setdefault(p, []).append(r)
    parents = sorted((by_key[k] for k, c in children.items() if len(c) >= 2), key=lambda r: r["N"])
    if len(parents) < sizes:
        sys.exit(f"wsd_vs_cosine: only {len(parents)} parents with two finished branches")
    chosen = [parents[round(i * (len(parents) - 1) / (sizes - 1))] for i in range(sizes)]
    out = []
    for p in chosen:
        points = [p]
        for frac in (0.5, 0.25):
            target = math.log(p["D"] * frac)
            best = min(children[p["extra"]["key"]], key=lambda r: abs(math.log(r["D"]) - target))
            if best not in points:
                points.append(best)
        out.append((p, points))
    return out


def cosine_config(point, seed, out_dir):
    c = dict(point["config"])
    c["lr_schedule"] = "cosine"
    c["branch_from"] = ""
    c["branch_steps"] = []
    c["warmup_steps"] = -1  # its own 5%
    c["seed"] = seed
    c["out_dir"] = out_dir
    c["log_interval"] = max(1, c["max_steps"] // 25)
    c["checkpoint_interval"] = 0
    c["quiet"] = True
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sweep_dir")
    ap.add_argument("out_json")
    ap.add_argument("--sizes", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--scalelab", default="scalelab")
    a = ap.parse_args()
    chosen = pick(load_runs(os.path.join(a.sweep_dir, "runs.db")), a.sizes)
    work = os.path.join(a.sweep_dir, "cosine-check")
    os.makedirs(work, exist_ok=True)
    jobs = []
    for _, points in chosen:
        for q in points:
            for s in range(a.seeds):
                name = f"{q['extra']['key']}-cos-s{s}"
                cfg_path = os.path.join(work, name + ".json")
                with open(cfg_path, "w") as f:
                    json.dump(cosine_config(q, s, os.path.join(work, name)), f, indent=1)
                jobs.append((q["extra"]["key"], s, cfg_path, os.path.join(work, name)))

    def train(job):
        key, s, cfg, out = job
        res = os.path.join(out, "result.json")
        if not os.path.exists(res):  # a finished run is read, not trained again
            with open(out + ".log", "w") as log:
                subprocess.run([a.scalelab, "train", "--config", cfg], stdout=log,
                               stderr=subprocess.STDOUT, check=False)
        if not os.path.exists(res):
            return key, s, float("nan")
        with open(res) as f:
            v = json.load(f)["final_val_loss"]
        return key, s, float("nan") if v is None else v

    with ThreadPoolExecutor(a.jobs) as ex:
        losses = {(k, s): v for k, s, v in ex.map(train, jobs)}
    rows = []
    print("| size (layers×d) | N non-emb | point | D | steps | WSD point loss | cosine "
          + " / ".join(f"seed {s}" for s in range(a.seeds))
          + " | WSD − cosine mean | cosine seeds' spread |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p, points in chosen:
        m = p["config"]["model"]
        for q in points:
            cos = [losses[(q["extra"]["key"], s)] for s in range(a.seeds)]
            mean = sum(cos) / len(cos)
            diff = 100 * (q["loss"] - mean) / mean
            spread = 100 * (max(cos) - min(cos)) / mean
            kind = "parent" if q is p else "branch"
            rows.append({"key": q["extra"]["key"], "kind": kind, "layers": m["n_layers"],
                         "d_model": m["d_model"], "n_non_embedding": q["extra"].get("n_non_embedding"),
                         "D": q["D"], "steps": q["config"]["max_steps"], "wsd_loss": q["loss"],
                         "cosine_losses": cos, "diff_percent": diff, "seed_spread_percent": spread})
            print(f"| {m['n_layers']}×{m['d_model']} | {q['extra'].get('n_non_embedding', 0):,} | "
                  f"{q['extra']['key']} ({kind}) | {q['D']:.3g} | {q['config']['max_steps']} | "
                  f"{q['loss']:.4f} | " + " / ".join(f"{c:.4f}" for c in cos)
                  + f" | {diff:+.2f}% | {spread:.2f}% |")
    with open(a.out_json, "w") as f:
        json.dump({"rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
