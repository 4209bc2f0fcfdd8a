"""scalelab.fit, ScalingLaw and isoflop from Python: the same numbers as the CLI's golden outputs."""

import json
import math
import os
import pickle
import subprocess

import numpy as np
import pytest

import scalelab


@pytest.fixture(scope="module")
def paper():
    return scalelab.chinchilla_paper_runs()


def golden(source_dir, name):
    with open(os.path.join(source_dir, "tests", "data", "golden", name), encoding="utf-8") as f:
        return json.load(f)


def test_fit_matches_the_cli_golden_output(paper, source_dir):
    law = scalelab.fit(paper.N, paper.D, paper.loss, bootstrap=0)
    want = golden(source_dir, "fit.json")["law"]
    for k, v in want.items():
        assert law.params[k] == pytest.approx(v, rel=1e-9), k
    assert law.fit_info["method"] == "varpro" and law.fit_info["n_runs"] == 234
    assert law.intervals == {} and law.bootstrap is None


def test_grid_and_varpro_reach_the_same_optimum(paper):
    v = scalelab.fit(paper, bootstrap=0)
    g = scalelab.fit(paper, method="grid", bootstrap=0)
    assert g.fit_info["method"] == "grid" and g.fit_info["starts"]["total"] == 4500
    for k in v.params:
        assert g.params[k] == pytest.approx(v.params[k], rel=1e-4), k


def test_bootstrap_intervals_bracket_the_estimate(paper):
    law = scalelab.fit(paper, bootstrap=40, seed=3, budgets=[1e24])
    assert set(law.intervals) == {"E", "A", "B", "alpha", "beta", "a", "b"}
    for k in ("E", "A", "B", "alpha", "beta"):
        lo, hi = law.intervals[k]
        assert lo < law.params[k] < hi, k
    assert law.bootstrap["samples"] == 40
    again = scalelab.fit(paper, bootstrap=40, seed=3, budgets=[1e24])
    assert again.intervals == law.intervals  # deterministic for a seed


def test_fit_takes_a_mapping_of_columns_and_the_chinchilla_loss_functions(paper):
    cols = {"N": list(paper.N), "D": paper.D.tolist(), "loss": paper.loss, "C": paper.C}
    a = scalelab.fit(cols, loss_fn="asymmetric-mae", bootstrap=0)

    def asymmetric_mae(y_true, y_pred, w=10.0):  # the package's function, taken by name
        raise AssertionError("never called")

    b = scalelab.fit(paper, loss_fn=asymmetric_mae, bootstrap=0)
    assert a.params == b.params
    assert a.fit_info["loss"] == "asymmetric-mae"
    h = scalelab.fit(paper, loss_fn="huber", delta=0.5, bootstrap=0)
    assert h.fit_info["delta"] == 0.5


def test_predict_allocate_adjust_match_the_closed_forms(paper):
    law = scalelab.fit(paper, bootstrap=0)
    p = law.params
    N, D = 7e10, 1.4e12
    assert law.predict(N, D) == pytest.approx(p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"],
                                              rel=1e-12)
    arr = law.predict(np.array([1e9, 1e10]), 2e10)
    assert arr.shape == (2,) and arr[0] > arr[1]
    a = law.allocate(1e24)
    assert isinstance(a.N, float) and 6 * a.N * a.D == pytest.approx(1e24, rel=1e-9)
    assert a.loss == pytest.approx(law.predict(a.N, a.D), rel=1e-12)
    # the optimum: moving N either way at fixed C raises the loss
    for f in (0.9, 1.1):
        assert law.predict(a.N * f, 1e24 / (6 * a.N * f)) > a.loss
    many = law.allocate([1e22, 1e24])
    assert many.N.shape == (2,) and many.N[1] == pytest.approx(a.N)
    assert law.adjust_D_to_N(a.N) == pytest.approx(a.D, rel=1e-9)
    assert law.compute_for_loss(a.loss) == pytest.approx(1e24, rel=1e-9)
    inf = law.allocate_with_inference(1e24, 1e13)
    assert inf["N"] < a.N and inf["loss"] == pytest.approx(a.loss, rel=1e-9)


def test_law_json_round_trip_and_the_cli_reads_it(tmp_path, paper):
    law = scalelab.fit(paper, bootstrap=20)
    path = tmp_path / "law.json"
    law.save(path)
    back = scalelab.ScalingLaw.load(path)
    assert back == law and back.intervals == law.intervals
    assert scalelab.ScalingLaw.from_json(law.to_json()) == law
    assert pickle.loads(pickle.dumps(law)) == law
    cli = os.environ.get("SCALELAB_BINARY")
    if cli:
        out = subprocess.run([cli, "allocate", "--params", str(path), "--C", "1e24", "--json"],
                             check=True, capture_output=True, text=True).stdout
        N = json.loads(out)["allocations"][0]["N_opt"]
        assert N == pytest.approx(law.allocate(1e24).N, rel=1e-12)


def test_isoflop_of_simulated_runs_finds_the_true_exponent():
    truth = scalelab.ScalingLaw(E=1.7, A=400, B=400, alpha=0.34, beta=0.28)
    Cs = np.repeat([1e18, 1e19, 1e20], 7)
    N = np.tile(np.logspace(-0.6, 0.6, 7), 3) * np.sqrt(Cs / 120)
    for i, c in enumerate([1e18, 1e19, 1e20]):
        opt = truth.allocate(c).N
        N[i * 7:(i + 1) * 7] = opt * np.logspace(-0.6, 0.6, 7)
    D = Cs / (6 * N)
    r = scalelab.isoflop(N, D, truth.predict(N, D), C=Cs, budget=[f"{c:g}" for c in Cs],
                         targets=[1e22])
    assert len(r.budgets) == 3 and not r.warnings
    assert r.n_opt["exponent"] == pytest.approx(truth.a, abs=0.01)
    assert r.targets[0]["C"] == 1e22


def test_simulate_is_deterministic_and_recovers_the_law():
    s = scalelab.simulate(300, seed=7, noise="gaussian", noise_scale=0.002)
    assert len(s) == 300 and s.extra["seeded"] == [True] * 300
    assert np.array_equal(s.loss, scalelab.simulate(300, seed=7, noise="gaussian",
                                                    noise_scale=0.002).loss)
    law = scalelab.fit(s, bootstrap=0)
    assert law.a == pytest.approx(0.2849083 / (0.33917084 + 0.2849083), abs=0.05)
    stepped = scalelab.simulate(50, seed=1, scaling_steps=2, scaling_factor=10)
    assert len(stepped) == 52 and stepped.extra["seeded"][-2:] == [False, False]
    assert stepped.C[-1] > 10 * 1e16 * 0.99
