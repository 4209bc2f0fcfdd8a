#!/usr/bin/env python3
"""The training phase of a sweep, timed from its database: started beside `scalelab sweep`, polls
RUNS_DB every 0.2 s and prints "K of N runs done in S s" once every run is done or failed, S counted
from the first run seen claimed (running) — or, with --since EPOCH, from that time. With
--until-claimed it returns as soon as a run is claimed, printing nothing. Used by
bench/gpu_dist2.sh and bench/gpu_estimate.sh.

Usage: python3 bench/sweep_wall.py RUNS_DB [--since EPOCH_SECONDS] > wall.txt &
       python3 bench/sweep_wall.py RUNS_DB --until-claimed
"""
import argparse
import os
import sqlite3
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db")
    ap.add_argument("--since", type=float, help="count from this Unix time instead")
    ap.add_argument("--until-claimed", action="store_true", help="return once a run is claimed")
    args = ap.parse_args()
    t0 = args.since
    while True:
        time.sleep(0.2)
        if not os.path.exists(args.db):
            continue
        try:
            rows = [s for (s,) in sqlite3.connect(args.db).execute("select status from runs")]
        except sqlite3.Error:  # being created, or locked for a moment
            continue
        if any(s == "running" for s in rows):
            if args.until_claimed:
                return
            if t0 is None:
                t0 = time.time()
        finished = rows and all(s in ("done", "failed") for s in rows)
        if finished and t0 is None:
            print(f"{len(rows)} runs, none left to train", flush=True)
            return
        if finished:
            done = sum(s == "done" for s in rows)
            print(f"{done} of {len(rows)} runs done in {time.time() - t0:.1f} s", flush=True)
            return


if __name__ == "__main__":
    main()
