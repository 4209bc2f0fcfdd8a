"""scalelab.Runs: the chinchilla CSV and the run database, both ways, and numpy/mapping/pandas."""

import os
import sqlite3
import subprocess

import numpy as np
import pytest

import scalelab


def test_csv_round_trip_is_byte_for_byte(paper_csv, tmp_path):
    runs = scalelab.Runs.from_csv(paper_csv)
    assert len(runs) == 234
    out = tmp_path / "out.csv"
    runs.to_csv(out)
    assert out.read_bytes() == open(paper_csv, "rb").read()


def test_columns_numpy_and_extra_columns(tmp_path):
    runs = scalelab.Runs(N=[1e8, 2e8, 4e8], D=np.array([4e9, 2e9, 1e9]), loss=(3.1, 3.0, 3.05),
                         budget=["b1", "b1", "b1"], arch=["a", "b", "c"])
    assert runs.C.tolist() == [6 * 1e8 * 4e9, 6 * 2e8 * 2e9, 6 * 4e8 * 1e9]
    m = runs.to_numpy()
    assert m.shape == (3, 4) and m[1, 1] == 2e8
    d = runs.to_dict()
    assert d["arch"] == ["a", "b", "c"] and d["budget"] == ["b1"] * 3
    back = scalelab.Runs.from_columns(d)
    assert back.N.tolist() == runs.N.tolist() and back.extra == {"arch": ["a", "b", "c"]}
    path = tmp_path / "r.csv"
    runs.to_csv(path)
    assert path.read_text().splitlines()[0] == "C,N,D,loss,budget,arch"
    again = scalelab.Runs.from_csv(path)
    assert again.budget == ["b1"] * 3 and again.extra["arch"] == ["a", "b", "c"]


def test_pandas_when_installed():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"N": [1e8, 2e8], "D": [4e9, 2e9], "loss": [3.1, 3.0], "lr": [1e-3, 2e-3]})
    runs = scalelab.Runs.from_pandas(df)
    assert runs.extra["lr"] == [1e-3, 2e-3]
    assert list(runs.to_pandas().columns) == ["C", "N", "D", "loss", "budget", "lr"]


def test_run_database_both_ways_with_the_cli(tmp_path, paper_csv):
    db = tmp_path / "runs.db"
    runs = scalelab.Runs.from_csv(paper_csv)
    ids = runs.to_db(db)
    assert ids == list(range(1, 235))
    back = scalelab.Runs.from_db(db)
    assert back.N.tolist() == runs.N.tolist() and back.status == ["done"] * 234
    assert back.ids == ids
    # the CLI reads what Python wrote, and fits the same law
    cli = os.environ.get("SCALELAB_BINARY")
    if cli:
        out = subprocess.run([cli, "runs", "list", "--db", str(db)], check=True,
                             capture_output=True, text=True).stdout
        assert "234 runs" in out
    a = scalelab.fit(back, bootstrap=0)
    b = scalelab.fit(runs, bootstrap=0)
    assert a.params == b.params
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from runs where status='done'").fetchone()[0] == 234


def test_from_db_reads_a_database_with_unfinished_runs(tmp_path):
    db = tmp_path / "runs.db"
    scalelab.Runs(N=[1e8], D=[2e9], loss=[3.0]).to_db(db)
    with sqlite3.connect(db) as c:
        c.execute("update runs set status='planned', loss=NULL")
    assert len(scalelab.Runs.from_db(db)) == 0
    every = scalelab.Runs.from_db(db, status=None)
    assert every.status == ["planned"] and np.isnan(every.loss[0])
    with pytest.raises(ValueError, match="status: expected planned, running, done or failed"):
        scalelab.Runs.from_db(db, status="finished")
