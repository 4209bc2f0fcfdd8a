#!/usr/bin/env python3
"""How well a sweep's finished runs predict the time of its other runs: one rate for all (the
median, as the plan used before 2026-12-04) against the rates per shape the plan now uses
(sweep::estimate_from_measured_rates: the median of each shape's runs, log-linear interpolation in
FLOPs per token between measured shapes, the nearest one's beyond them).

Leave-one-out over the finished runs of each database given: each run's time alone (its FLOPs at
its own measured rate; a packed run's rate divided by its GPU share and the packing gain, as
sweep::measured_device_rate counts it) is predicted from the other runs. Prints, per database, the
mean and largest |error| per run and the error of the total under both rules.

Usage: python3 bench/estimate_check.py docs/examples/*/runs.db
"""
import json
import math
import sqlite3
import statistics
import sys

PACKING_GAIN, PACKING_GAIN_MPS = 1.2, 1.5  # sweep/planner.h


def finished_runs(db):
    """(FLOPs per token, FLOPs trained, rate alone in FLOP/s) of each finished run that has them."""
    out = []
    for (extra,) in sqlite3.connect(db).execute("select extra from runs where status = 'done'"):
        x = json.loads(extra)
        wall = x.get("wall_seconds", 0)
        flops = x.get("flops_spent") or x.get("flops_exact", 0)
        fpt = x.get("flops_per_token", 0)
        by = x.get("trained_by", {})
        share = by.get("gpu_share", 1)
        gain = 1 if share >= 1 else (PACKING_GAIN_MPS if by.get("mps") else PACKING_GAIN)
        if wall > 0 and flops > 0 and fpt > 0:
            out.append((fpt, flops, flops / wall / share / gain))
    return out


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def rate_at(by_shape, fpt):
    keys = sorted(by_shape)
    if fpt <= keys[0]:
        return by_shape[keys[0]]
    if fpt >= keys[-1]:
        return by_shape[keys[-1]]
    for lo, hi in zip(keys, keys[1:]):
        if lo <= fpt <= hi:
            t = math.log(fpt / lo) / math.log(hi / lo)
            return math.exp(math.log(by_shape[lo]) + t * math.log(by_shape[hi] / by_shape[lo]))
    raise AssertionError("unreachable")


def main(paths):
    if not paths:
        sys.exit("usage: estimate_check.py RUNS_DB...")
    print("database | runs | shapes | |error| per run: one rate / per shape (largest) | "
          "total: one rate / per shape")
    for path in paths:
        runs = finished_runs(path)
        if len(runs) < 3:
            print(f"{path} | {len(runs)} | - | too few finished runs | -")
            continue
        err_one, err_shape, actual, total_one, total_shape = [], [], 0.0, 0.0, 0.0
        for i, (fpt, flops, rate) in enumerate(runs):
            others = runs[:i] + runs[i + 1:]
            groups = {}
            for f, _, r in others:
                groups.setdefault(f, []).append(r)
            by_shape = {f: median(v) for f, v in groups.items()}
            alone = flops / rate
            one = flops / median(r for _, _, r in others)
            shape = flops / rate_at(by_shape, fpt)
            err_one.append(abs(one - alone) / alone)
            err_shape.append(abs(shape - alone) / alone)
            actual, total_one, total_shape = actual + alone, total_one + one, total_shape + shape
        shapes = len({f for f, _, _ in runs})
        print(f"{path} | {len(runs)} | {shapes} | {statistics.mean(err_one):.1%} "
              f"({max(err_one):.0%}) / {statistics.mean(err_shape):.1%} ({max(err_shape):.0%}) | "
              f"{total_one / actual - 1:+.1%} / {total_shape / actual - 1:+.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
