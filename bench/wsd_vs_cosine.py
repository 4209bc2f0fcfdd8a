#!/usr/bin/env python3
"""Cooldown branches against full cosine runs (issue 19's evidence), after a WSD sweep.

Usage: wsd_vs_cosine.py SWEEP_DIR OUT_JSON [--sizes 3] [--seeds 2] [--jobs 4] [--scalelab BIN]
                        [--db RUNS_DB] [--lr-multipliers 1] [--schedules cosine]

Run in the directory the sweep ran in (its run configs name data paths relative to it). From the
sweep's runs.db it takes `--sizes` parent runs of different sizes (smallest, middle and largest N
among the parents with two or more finished branch points), and for each the parent's D and the
branch points nearest D/2 and D/4 (in log D). For each of these points it trains a full cosine run
from scratch with `scalelab train`: the same shape, data, batch, peak lr, final lr and AdamW as the
point, its own steps and warmup (5%), with seeds 0 … seeds-1, `--jobs` at a time on the GPU. Prints a
table (WSD point, cosine runs, the difference against their mean, and the cosine runs' spread between
seeds) and writes it to OUT_JSON.

Whether the difference is the schedule or the learning rate: `--lr-multipliers 0.5,1,2` trains each
point at those multiples of its peak and final lr, and `--schedules cosine,wsd` also trains each point
as a WSD run of its own length from scratch (what a branch is, warmup included: the parent's). Each
point then gets its best loss per schedule over the multipliers, and the table compares the best WSD
with the best cosine. `--cosine-warmup point` gives the cosine runs the point's warmup (a branch's is its parent's) instead
of their own 5%, so that only the schedule after the warmup differs; `--points branches` leaves the
parents out, `--only KEY,…` keeps those points. `--planned` also takes points that are planned but
not trained (their configs are all it needs; their own loss shows as nan), `--parents KEY,…` names
the parents instead of the smallest, middle and largest. `--db` reads the points from another runs.db (e.g. a committed sweep's, with the
data prepared by `scalelab sweep plan`). Runs are trained shortest first and a finished run is read,
not trained again, so an interrupted call keeps what it finished; `--time-limit S` stops training
after S seconds (runs not finished by then count as nan) and still prints the table; its runs save a
checkpoint every fifth of their steps, so a run cut off resumes from there in the next call (on the
same machine: the device tool keeps build-cuda/ while it stays warm).
"""
import argparse
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def load_runs(db_path):
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT id, status, N, D, C, loss, budget, config, extra FROM runs").fetchall()
    runs = []
    for id_, status, n, d, c, loss, budget, config, extra in rows:
        runs.append({"id": id_, "status": status, "N": n, "D": d, "C": c, "loss": loss,
                     "budget": budget, "config": json.loads(config), "extra": json.loads(extra)})
    return runs


def pick(runs, sizes, planned=False, parent_keys=()):
    done = [r for r in runs if r["status"] == "done" or planned]
    for r in done:
        if r["loss"] is None:
            r["loss"] = float("nan")  # a planned point: only its config is used
    by_key = {r["extra"]["key"]: r for r in done}
    children = {}
    for r in done:
        p = r["extra"].get("parent_key")
        if isinstance(p, str) and p in by_key:
            children.setdefault(p, []).append(r)
    parents = sorted((by_key[k] for k, c in children.items() if len(c) >= 2), key=lambda r: r["N"])
    if parent_keys:
        missing = [k for k in parent_keys if k not in {r["extra"]["key"] for r in parents}]
        if missing:
            sys.exit(f"wsd_vs_cosine: --parents: {', '.join(missing)}: not a parent with two "
                     "branches in the database")
        return pick_points([r for r in parents if r["extra"]["key"] in parent_keys], children)
    if len(parents) < sizes:
        sys.exit(f"wsd_vs_cosine: only {len(parents)} parents with two finished branches")
    chosen = [parents[round(i * (len(parents) - 1) / (sizes - 1))] for i in range(sizes)]
    return pick_points(chosen, children)


def pick_points(chosen, children):
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


def run_config(point, schedule, lr_multiplier, seed, out_dir, cosine_warmup="own", resumable=False):
    c = dict(point["config"])
    c["lr_schedule"] = schedule
    c["branch_from"] = ""
    c["branch_steps"] = []
    if schedule == "cosine" and cosine_warmup == "own":
        c["warmup_steps"] = -1  # its own 5%
    # wsd keeps the point's warmup: a branch's is its parent's, so this is the branch's whole run.
    c["lr_max"] = c["lr_max"] * lr_multiplier
    c["lr_min"] = c["lr_min"] * lr_multiplier
    c["seed"] = seed
    c["out_dir"] = out_dir
    c["log_interval"] = max(1, c["max_steps"] // 25)
    # Under --time-limit a run cut off resumes in the next call from its last fifth (`resume` is on
    # by default); otherwise no checkpoints.
    c["checkpoint_interval"] = max(1, c["max_steps"] // 5) if resumable else 0
    c["quiet"] = True
    return c


def parse_list(text, kind):
    return [kind(x) for x in text.split(",") if x]


def mean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sweep_dir")
    ap.add_argument("out_json")
    ap.add_argument("--sizes", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--scalelab", default="scalelab")
    ap.add_argument("--db", default="")
    ap.add_argument("--lr-multipliers", default="1")
    ap.add_argument("--schedules", default="cosine")
    ap.add_argument("--time-limit", type=float, default=0)
    ap.add_argument("--cosine-warmup", choices=("own", "point"), default="own")
    ap.add_argument("--points", choices=("all", "branches"), default="all")
    ap.add_argument("--only", default="", help="comma-separated point keys to train (default all)")
    ap.add_argument("--planned", action="store_true")
    ap.add_argument("--parents", default="")
    a = ap.parse_args()
    only = set(parse_list(a.only, str))
    deadline = time.monotonic() + a.time_limit if a.time_limit > 0 else None
    mults = parse_list(a.lr_multipliers, float)
    schedules = parse_list(a.schedules, str)
    if not mults or any(not m > 0 for m in mults):
        sys.exit("wsd_vs_cosine: --lr-multipliers: positive numbers, comma-separated")
    if not schedules or any(x not in ("cosine", "wsd") for x in schedules):
        sys.exit("wsd_vs_cosine: --schedules: cosine and/or wsd, comma-separated")
    chosen = pick(load_runs(a.db or os.path.join(a.sweep_dir, "runs.db")), a.sizes, a.planned,
                  parse_list(a.parents, str))
    # The points trained and tabled: --points and --only applied once.
    chosen = [(p, [q for q in points
                   if not (a.points == "branches" and q is p)
                   and (not only or q["extra"]["key"] in only)]) for p, points in chosen]
    # The default table: cosine at the points' lr against their WSD loss.
    classic = schedules == ["cosine"] and mults == [1.0]
    work = os.path.join(a.sweep_dir, "cosine-check")
    os.makedirs(work, exist_ok=True)
    jobs = []
    for _, points in chosen:
        for q in points:
            for sched in schedules:
                for m in mults:
                    for s in range(a.seeds):
                        tag = "wsd" if sched == "wsd" else "cos" if a.cosine_warmup == "own" else "cos-wu"
                        lr = "" if m == 1 else f"-lr{m:g}"
                        name = f"{q['extra']['key']}-{tag}{lr}-s{s}"
                        cfg_path = os.path.join(work, name + ".json")
                        with open(cfg_path, "w") as f:
                            json.dump(run_config(q, sched, m, s, os.path.join(work, name),
                                             a.cosine_warmup, a.time_limit > 0), f, indent=1)
                        jobs.append(((q["extra"]["key"], sched, m, s), q["config"]["max_steps"],
                                     cfg_path, os.path.join(work, name)))
    jobs.sort(key=lambda j: j[1])  # shortest first: an interrupted call keeps the most points

    def train(job):
        key, _, cfg, out = job
        res = os.path.join(out, "result.json")
        left = None if deadline is None else deadline - time.monotonic()
        if not os.path.exists(res) and (left is None or left > 1):  # a finished run is read
            with open(out + ".log", "w") as log:
                try:
                    subprocess.run([a.scalelab, "train", "--config", cfg], stdout=log,
                                   stderr=subprocess.STDOUT, check=False, timeout=left)
                except subprocess.TimeoutExpired:
                    pass  # past --time-limit: the point's loss stays unknown (nan)
        if not os.path.exists(res):
            return key, float("nan")
        with open(res) as f:
            v = json.load(f)["final_val_loss"]
        return key, float("nan") if v is None else v

    with ThreadPoolExecutor(a.jobs) as ex:
        losses = dict(ex.map(train, jobs))
    rows = []
    if classic:
        print("| size (layers×d) | N non-emb | point | D | steps | WSD point loss | cosine "
              + " / ".join(f"seed {s}" for s in range(a.seeds))
              + " | WSD − cosine mean | cosine seeds' spread |")
        print("|---|---|---|---|---|---|---|---|---|")
    else:
        cols = [f"{'cos' if x == 'cosine' else 'wsd'} ×{m:g}" for x in schedules for m in mults]
        print("| size (layers×d) | point | steps | WSD point (sweep) | " + " | ".join(cols)
              + " | best WSD − best cosine |")
        print("|" + "---|" * (5 + len(cols)))
    for p, points in chosen:
        m = p["config"]["model"]
        for q in points:
            key = q["extra"]["key"]
            kind = "parent" if q is p else "branch"
            runs = {(x, lm): [losses[(key, x, lm, s)] for s in range(a.seeds)]
                    for x in schedules for lm in mults}
            row = {"key": key, "kind": kind, "layers": m["n_layers"], "d_model": m["d_model"],
                   "n_non_embedding": q["extra"].get("n_non_embedding"), "D": q["D"],
                   "steps": q["config"]["max_steps"], "wsd_loss": q["loss"]}
            if classic:
                cos = runs[("cosine", 1.0)]
                mu = mean(cos)
                diff = 100 * (q["loss"] - mu) / mu
                spread = 100 * (max(cos) - min(cos)) / mu
                row.update({"cosine_losses": cos, "diff_percent": diff,
                            "seed_spread_percent": spread})
                print(f"| {m['n_layers']}×{m['d_model']} | "
                      f"{q['extra'].get('n_non_embedding', 0):,} | {key} ({kind}) | {q['D']:.3g} | "
                      f"{q['config']['max_steps']} | {q['loss']:.4f} | "
                      + " / ".join(f"{c:.4f}" for c in cos) + f" | {diff:+.2f}% | {spread:.2f}% |")
            else:
                means = {k: mean(v) for k, v in runs.items()}
                best = {x: min((means[(x, lm)] for lm in mults if not math.isnan(means[(x, lm)])),
                               default=float("nan")) for x in schedules}
                gap = (100 * (best["wsd"] - best["cosine"]) / best["cosine"]
                       if len(schedules) == 2 else float("nan"))
                row.update({"losses": [{"schedule": x, "lr_multiplier": lm, "seeds": v}
                                       for (x, lm), v in runs.items()],
                            "best": best, "best_gap_percent": gap})
                print(f"| {m['n_layers']}×{m['d_model']} | {key} ({kind}) | "
                      f"{q['config']['max_steps']} | {q['loss']:.4f} | "
                      + " | ".join(" / ".join(f"{c:.4f}" for c in runs[(x, lm)])
                                   for x in schedules for lm in mults) + f" | {gap:+.2f}% |")
            rows.append(row)
    with open(a.out_json, "w") as f:
        json.dump({"lr_multipliers": mults, "schedules": schedules, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
