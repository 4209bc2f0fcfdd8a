"""scalelab.Chinchilla: the chinchilla package's seed / fit / scale / step / append loop, its
project_dir/df.csv, allocate_compute and predict_loss as class and instance methods, simulate."""

import numpy as np
import pytest

import scalelab
from scalelab import Chinchilla

PARAM_GRID = dict(E=np.linspace(1.1, 1.5, 3), a=np.linspace(1, 10, 3), b=np.linspace(1, 10, 3),
                  alpha=np.linspace(0.1, 0.7, 3), beta=np.linspace(0.1, 0.7, 3))
TRUTH = scalelab.ScalingLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def size_estimator(hidden_size, num_hidden_layers):
    return 12 * num_hidden_layers * hidden_size ** 2 + 50257 * hidden_size


def test_the_loop_seeds_then_scales_and_keeps_df_csv(tmp_path):
    cc = Chinchilla(str(tmp_path / "proj"), param_grid=PARAM_GRID,
                    seed_ranges=dict(C=(1e15, 1e16), N_to_D=(10, 100)),
                    model_search_config=dict(
                        hyperparam_grid=dict(hidden_size=list(range(64, 2049, 64)),
                                             num_hidden_layers=list(range(1, 25))),
                        size_estimator=size_estimator),
                    loss_fn="log_huber", num_seeding_steps=12, scaling_factor=4.0, seed=1)
    for i in range(14):
        (N, D), config = cc.step()
        assert N == size_estimator(**config)  # snapped to a buildable model
        if i < 12:
            assert 1e15 <= 6 * N * D <= 1e16 and 10 <= D / N <= 100
        else:
            assert 6 * N * D > 1e16 * 3.9  # a scaled budget
        cc.append(N=N, D=D, loss=float(TRUTH.predict(N, D)), **config)
    assert cc.get_params()["alpha"] > 0
    df = scalelab.Runs.from_csv(tmp_path / "proj" / "df.csv")
    assert len(df) == 14 and list(df.extra) == ["hidden_size", "num_hidden_layers"]
    # a new instance on the same directory continues from df.csv
    again = Chinchilla(str(tmp_path / "proj"), param_grid=PARAM_GRID, num_seeding_steps=12,
                       scaling_factor=4.0)
    assert len(again.database.runs) == 14
    (N, D), config = again.step()
    assert config is None and 6 * N * D > 1e16


def test_allocate_compute_and_predict_loss_as_class_and_instance_methods(tmp_path):
    params = TRUTH.params
    N, D = Chinchilla.allocate_compute(1e21, params)
    a = TRUTH.allocate(1e21)
    assert (N, D) == (a.N, a.D)
    many = Chinchilla.allocate_compute(np.logspace(18, 21, 4), params)
    assert many.shape == (4, 2)
    assert Chinchilla.predict_loss(1e9, 2e10, params) == TRUTH.predict(1e9, 2e10)
    with pytest.raises(ValueError, match="params: missing beta"):
        Chinchilla.predict_loss(1e9, 2e10, {k: v for k, v in params.items() if k != "beta"})
    cc = Chinchilla(str(tmp_path), seed_ranges=dict(C=(1e17, 1e19), N_to_D=(5, 200)), seed=0)
    with pytest.raises(ValueError, match="not been fitted"):
        cc.allocate_compute(1e21)
    cc.simulate(num_seeding_steps=200, num_scaling_steps=0, target_params=params,
                noise_generator="gaussian", noise_scale=0.001)
    assert len(cc.database.runs) == 200
    assert cc.get_params()["alpha"] == pytest.approx(0.34, abs=0.05)
    N2, D2 = cc.allocate_compute(1e21)
    assert 6 * N2 * D2 == pytest.approx(1e21)
    assert cc.adjust_D_to_N(N2) == pytest.approx(D2, rel=1e-9)
    assert "alpha" in cc.report()


def test_the_package_arguments_that_we_refuse_say_so(tmp_path):
    with pytest.raises(ValueError, match="weight_fn"):
        Chinchilla(str(tmp_path), weight_fn=lambda c: 1.0)
    with pytest.raises(ValueError, match="custom loss callables"):
        Chinchilla(str(tmp_path), loss_fn=lambda y, p: abs(y - p))
    with pytest.raises(ValueError, match="seed_ranges: unknown key"):
        Chinchilla(str(tmp_path), seed_ranges=dict(C=(1, 2), ratio=(1, 2)))
    with pytest.raises(ValueError, match="model_search_config: unknown key"):
        Chinchilla(str(tmp_path), model_search_config=dict(hyperparam_grid={"h": [1]},
                                                           size_estimator=len, flop_estimator=len))
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        Chinchilla(str(tmp_path / "file"))
    cc = Chinchilla(str(tmp_path / "p"), num_seeding_steps=2)
    with pytest.raises(ValueError, match="scale: the scaling law has not been fitted"):
        cc.scale(C=1e20)
    with pytest.raises(ValueError, match="append: missing loss"):
        cc.append(N=1e8, D=1e9)
    with pytest.raises(ValueError, match="num_seeding_steps: must be positive"):
        cc.step(num_seeding_steps=0)
