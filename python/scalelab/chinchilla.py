"""The ``chinchilla`` package's seed / fit / scale / step loop on scalelab's engine.

A user of that package switches with ``from scalelab import Chinchilla`` in place of
``from chinchilla import Chinchilla``: the constructor, ``seed``, ``fit``, ``scale``, ``step``,
``append``, ``adjust_D_to_N``, ``allocate_compute``, ``predict_loss``, ``get_params``, ``simulate``
and ``report`` keep their signatures and return values, and the runs live in the same
``project_dir/df.csv``. What differs is listed in docs/python.md ("From the chinchilla package").
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
from typing import Any, Callable, Mapping

import numpy as np

from . import _scalelab as _core
from ._arrays import float_array, path_str


class _hybridmethod:
    """A method that works on the class (params passed) and on an instance (its fitted params),
    as the package's allocate_compute and predict_loss do."""

    def __init__(self, f: Callable):
        self.f = f
        functools.update_wrapper(self, f)

    def __get__(self, obj: Any, cls: type) -> Callable:
        return functools.partial(self.f, obj if obj is not None else cls)


class _ModelSearch:
    """The package's search_model_config: the configuration of hyperparam_grid whose
    size_estimator(**config) is closest to the target N (in log space), sizes computed once."""

    def __init__(self, config: Mapping[str, Any]):
        unknown = set(config) - {"hyperparam_grid", "size_estimator"}
        if unknown:
            raise ValueError(f"model_search_config: unknown key(s) {', '.join(sorted(unknown))} "
                             "(known: hyperparam_grid, size_estimator; C is 6ND)")
        grid = config.get("hyperparam_grid")
        est = config.get("size_estimator")
        if not isinstance(grid, Mapping) or not grid:
            raise ValueError("model_search_config.hyperparam_grid: expected a dict of lists")
        if not callable(est):
            raise TypeError("model_search_config.size_estimator: expected a callable")
        keys = list(grid)
        configs = [dict(zip(keys, v)) for v in itertools.product(*(list(grid[k]) for k in keys))]
        if not configs:
            raise ValueError("model_search_config.hyperparam_grid: no configuration (an empty list)")
        sizes = np.array([float(est(**c)) for c in configs], dtype=np.float64)
        ok = np.isfinite(sizes) & (sizes > 0)
        if not ok.any():
            raise ValueError("model_search_config.size_estimator: no configuration has a positive size")
        self.configs = [c for c, k in zip(configs, ok) if k]
        self.log_sizes = np.log(sizes[ok])
        self.last: dict | None = None

    def __call__(self, target_N: float) -> float:
        i = int(np.argmin(np.abs(self.log_sizes - math.log(target_N))))
        self.last = dict(self.configs[i])
        return float(math.exp(self.log_sizes[i]))


class _Database:
    """project_dir/df.csv as the package keeps it: columns C, N, D, loss, then anything appended."""

    def __init__(self, project_dir: str | None):
        from . import Runs
        self.path = os.path.join(project_dir, "df.csv") if project_dir else None
        self.runs = Runs.from_csv(self.path) if self.path and os.path.exists(self.path) else Runs()

    @property
    def df(self):
        """A pandas DataFrame of the runs when pandas is installed, else the Runs."""
        try:
            return self.runs.to_pandas()
        except ImportError:
            return self.runs

    def append(self, **result: Any) -> None:
        """One run: N, D, loss, C (6ND when absent), budget, and extra columns."""
        missing = [k for k in ("N", "D", "loss") if k not in result]
        if missing:
            raise ValueError(f"append: missing {', '.join(missing)} (N, D and loss are required)")
        from . import Runs
        row = dict(result)
        cols = {k: [float(float_array(row.pop(k), k, scalar_ok=True))] for k in ("N", "D", "loss")}
        c = row.pop("C", None)
        C = None if c is None else [float(float_array(c, "C", scalar_ok=True))]
        budget = [str(row.pop("budget", ""))]
        self.extend(Runs(**cols, C=C, budget=budget, **{k: [v] for k, v in row.items()}))

    def extend(self, runs: Any) -> None:
        """Many runs at once (one write of df.csv); extra columns of either side filled with None."""
        n, m = len(self.runs), len(runs)
        extra = {k: list(v) + [None] * m for k, v in self.runs.extra.items()}
        for k, v in runs.extra.items():
            extra[k] = extra.get(k, [None] * (n + m))[:n] + list(v)
        self._set(np.append(self.runs.N, runs.N), np.append(self.runs.D, runs.D),
                  np.append(self.runs.loss, runs.loss), np.append(self.runs.C, runs.C),
                  list(self.runs.budget) + list(runs.budget), extra)

    def _set(self, N, D, loss, C, budget, extra) -> None:
        from . import Runs
        self.runs = Runs(N, D, loss, C=C, budget=budget, **extra)
        if self.path:
            self.runs.to_csv(self.path)


_LOSS_DEFAULT = "asymmetric-mae"  # the package's default loss_fn


class Chinchilla:
    """Estimates the scaling law of a task and proposes the next run, as the ``chinchilla``
    package's class does (seed regime → fit → scaled allocation), on scalelab's fit.

    project_dir: where df.csv (the runs) lives; created if missing.
    param_grid: start grid of the L-BFGS fit ({"E"|"e", "A"|"a", "B"|"b", "alpha", "beta"} →
        values); given, the fit is the package's procedure (method "grid"); None: variable
        projection (method "varpro"), which needs no grid.
    seed_ranges: {"C": (min, max), "N_to_D": (min, max)}: the seed regime's FLOPs and D/N.
    model_search_config: {"hyperparam_grid": {name: values}, "size_estimator": f(**config) → N}:
        proposals snap N to the closest configuration, returned beside (N, D).
    loss_fn: a loss name or the package's function (asymmetric_mae, log_huber, huber, mae, mse).
    weight_fn: not supported (None).
    seed: the generator of seed(); the package draws from numpy's global state instead.
    """

    def __init__(self, project_dir: str, param_grid: Mapping[str, Any] | None = None,
                 seed_ranges: Mapping[str, Any] | None = None,
                 model_search_config: Mapping[str, Any] | None = None,
                 loss_fn: Any = _LOSS_DEFAULT, weight_fn: Callable | None = None,
                 num_seeding_steps: int | None = None, scaling_factor: float | None = None,
                 log_level: int | str = 20, *, method: str | None = None, seed: int = 0,
                 delta: float | None = None):
        from . import _loss_name
        if weight_fn is not None:
            raise ValueError("weight_fn: weighting by a callable is not supported; pass weights "
                             "to scalelab.fit instead")
        self.project_dir = path_str(project_dir, "project_dir")
        if os.path.exists(self.project_dir) and not os.path.isdir(self.project_dir):
            raise FileExistsError(f"project_dir: {self.project_dir} exists and is not a directory")
        os.makedirs(self.project_dir, exist_ok=True)
        self.param_grid = None if param_grid is None else {
            k: (v if isinstance(v, Mapping) else [float(x) for x in np.asarray(v).ravel()])
            for k, v in param_grid.items()}
        ranges = dict(seed_ranges or {"C": (1e15, 1e16), "N_to_D": (10, 100)})
        unknown = set(ranges) - {"C", "N_to_D"}
        if unknown:
            raise ValueError(f"seed_ranges: unknown key(s) {', '.join(sorted(unknown))} (known: C, N_to_D)")
        c = float_array(list(ranges.get("C", (1e15, 1e16))), "seed_ranges.C")
        r = float_array(list(ranges.get("N_to_D", (10, 100))), "seed_ranges.N_to_D")
        if len(c) != 2 or len(r) != 2 or c[0] > c[1] or r[0] > r[1]:
            raise ValueError("seed_ranges: C and N_to_D are (min, max) pairs with min <= max")
        self.seed_ranges = {"C": (float(c[0]), float(c[1])), "N_to_D": (float(r[0]), float(r[1]))}
        self.loss_fn = _loss_name(loss_fn)
        self.method = method or ("grid" if self.param_grid is not None else "varpro")
        self.delta = delta
        self.num_seeding_steps = num_seeding_steps
        self.scaling_factor = scaling_factor
        self.log_level = log_level
        self._search = _ModelSearch(model_search_config) if model_search_config else None
        self._rng = _core.Rng(int(seed))
        self.database = _Database(self.project_dir)
        self.law = None  # a scalelab.ScalingLaw after fit()

    @classmethod
    def from_config(cls, config_path: str, **kwargs: Any) -> "Chinchilla":
        """Arguments from a JSON file (YAML when PyYAML is installed), overridden by kwargs."""
        path = path_str(config_path, "config_path")
        with open(path, encoding="utf-8") as f:
            if path.endswith((".yaml", ".yml")):
                import yaml  # noqa: PLC0415
                cfg = yaml.safe_load(f)
            elif path.endswith(".json"):
                cfg = json.load(f)
            else:
                raise ValueError(f"config_path: {path}: expected a .json, .yaml or .yml file")
        if not isinstance(cfg, dict):
            raise ValueError(f"config_path: {path}: expected an object of arguments")
        cfg.update(kwargs)
        return cls(**cfg)

    # ---- the loop
    def _proposal(self, p: dict) -> tuple[tuple[int, float], dict | None]:
        config = self._search.last if self._search else None
        return (int(round(p["N"])), float(p["D"])), config

    def seed(self) -> tuple[tuple[int, float], dict | None]:
        """A random allocation from the seed regime: C and D/N log-uniform in seed_ranges; with a
        model search, N snapped to the closest configuration (redrawn until C and D/N fit)."""
        c, r = self.seed_ranges["C"], self.seed_ranges["N_to_D"]
        return self._proposal(_core.seed(c[0], c[1], r[0], r[1], self._rng, self._search))

    def _fit_options(self, parallel: bool = True) -> dict:
        o: dict[str, Any] = {"method": self.method, "loss": self.loss_fn,
                             "threads": 0 if parallel else 1}
        if self.delta is not None:
            o["delta"] = self.delta
        return o

    def fit(self, parallel: bool = True, simulation: bool = False) -> None:
        """Fits the law to the runs in the database (sets ``law`` and get_params())."""
        from . import fit
        runs = self.database.runs
        if len(runs) < 5:
            raise ValueError(f"fit: need at least 5 runs, the database has {len(runs)}")
        o = self._fit_options(parallel)
        self.law = fit(runs.N, runs.D, runs.loss, method=o.pop("method"), loss_fn=o.pop("loss"),
                       param_grid=self.param_grid, bootstrap=0, **o)

    def _require_law(self, what: str):
        if self.law is None:
            raise ValueError(f"{what}: the scaling law has not been fitted yet (call fit())")
        return self.law

    def scale(self, scaling_factor: float | None = None, C: float | None = None,
              simulation: bool = False) -> tuple[tuple[int, float], dict | None]:
        """The compute-optimal allocation of the next budget: C, or the largest C so far (at least
        the seed range's top) times scaling_factor (the instance's when not given)."""
        law = self._require_law("scale")
        if C is not None and scaling_factor is not None:
            raise ValueError("scale: give C or scaling_factor, not both")
        if C is None:
            factor = scaling_factor if scaling_factor is not None else self.scaling_factor
            if factor is None:
                raise ValueError("scale: give C or scaling_factor (none set on the instance)")
            c = self.seed_ranges["C"]
            C = _core.next_budget(c[0], c[1], self.database.runs.C, float(factor))
        C = float(float_array(C, "C", scalar_ok=True))
        return self._proposal(_core.scale(law._law, C, self._search))

    def step(self, num_seeding_steps: int | None = None, parallel: bool = True,
             simulation: bool = False, **scale_kwargs: Any) -> tuple[tuple[int, float], dict | None]:
        """seed() while fewer than num_seeding_steps runs lie in the seed range; then fit() and
        scale(**scale_kwargs)."""
        k = num_seeding_steps if num_seeding_steps is not None else self.num_seeding_steps
        if k is None:
            raise ValueError("step: num_seeding_steps is not set")
        if int(k) < 1:
            raise ValueError(f"num_seeding_steps: must be positive (got {k})")
        c, r = self.seed_ranges["C"], self.seed_ranges["N_to_D"]
        if _core.seeding_needed(c[0], c[1], r[0], r[1], self.database.runs.C, int(k)):
            return self.seed()
        self.fit(parallel=parallel)
        return self.scale(**scale_kwargs)

    def append(self, **result: Any) -> None:
        """Records a finished run: N, D, loss (C = 6ND unless given) and any extra columns (a
        model configuration), saved to project_dir/df.csv at once."""
        self.database.append(**result)

    # ---- the law
    def get_params(self) -> dict:
        return dict(self._require_law("get_params").params)

    def adjust_D_to_N(self, N: float) -> float:
        """D for a model of N parameters: D = G^-(1+b/a) N^(b/a)."""
        return self._require_law("adjust_D_to_N").adjust_D_to_N(N)

    @_hybridmethod
    def allocate_compute(self_or_cls, C: Any, params: Mapping[str, float] | None = None) -> Any:
        """(N, D) for C; an array of budgets gives a (len(C), 2) array."""
        law = _law_of(self_or_cls, params, "allocate_compute")
        a = law.allocate(C)
        return (a.N, a.D) if np.ndim(a.N) == 0 else np.column_stack([a.N, a.D])

    @_hybridmethod
    def predict_loss(self_or_cls, N: Any, D: Any, params: Mapping[str, float] | None = None) -> Any:
        """L(N, D) = E + A N^-alpha + B D^-beta."""
        return _law_of(self_or_cls, params, "predict_loss").predict(N, D)

    # ---- simulation and the report
    def simulate(self, num_seeding_steps: int = 100, num_scaling_steps: int = 1,
                 scaling_factor: float | None = None,
                 target_params: Mapping[str, float] | None = None,
                 noise_generator: Any = "exponential", *, noise_scale: float = 0.1,
                 seed: int = 0) -> None:
        """Simulates the loop on a hypothetical task (the package's Simulator): num_seeding_steps
        seed runs, then num_scaling_steps fit-and-scale steps, losses from target_params plus noise
        ("exponential" with mean noise_scale, the package's default; "gaussian"; None: none). The
        runs are appended to the database and the law fitted on them."""
        from . import Runs, ScalingLaw
        if noise_generator is None:
            noise = "none"
        elif isinstance(noise_generator, str):
            noise = noise_generator
        else:
            raise TypeError("noise_generator: pass 'exponential', 'gaussian' or None (with "
                            "noise_scale); noise iterators are not supported")
        p = dict(target_params or {"E": 1.69337368, "A": 406.401018, "B": 410.722827,
                                   "alpha": 0.33917084, "beta": 0.2849083})
        truth = ScalingLaw(**{k: p[k] for k in ("E", "A", "B", "alpha", "beta")})
        factor = scaling_factor if scaling_factor is not None else (self.scaling_factor or 10.0)
        c, r = self.seed_ranges["C"], self.seed_ranges["N_to_D"]
        d = _core.simulate(int(num_seeding_steps), int(seed), noise, float(noise_scale), truth._law,
                           c[0], c[1], r[0], r[1], int(num_scaling_steps), float(factor),
                           self._fit_options(), self.param_grid)
        self.database.extend(Runs(N=d["N"], D=d["D"], loss=d["loss"], C=d["C"]))
        self.fit()

    def report(self, plot: bool = False) -> str:
        """Prints (and returns) the fitted parameters, the fit's goodness and the next allocation.
        plot=True is not supported here: ``scalelab report`` writes the HTML report with plots."""
        if plot:
            raise ValueError("report: plots are not drawn from Python; run `scalelab report`")
        law = self._require_law("report")
        f = law.fit_info or {}
        lines = [f"{k:>6} = {v:.6g}" for k, v in law.params.items()]
        lines.append(f"fit: {f.get('method')} on {f.get('n_runs')} runs, loss {f.get('loss')}, "
                     f"objective {f.get('objective', float('nan')):.6g}, R² {f.get('r2', float('nan')):.4f}")
        if self.scaling_factor:
            (N, D), _ = self.scale()
            lines.append(f"next: N = {N:.4g}, D = {D:.4g} (C = {6 * N * D:.4g})")
        text = "\n".join(lines)
        print(text)
        return text


def _law_of(self_or_cls: Any, params: Mapping[str, float] | None, what: str):
    from . import ScalingLaw
    if params is not None:
        missing = [k for k in ("E", "A", "B", "alpha", "beta") if k not in params]
        if missing and what == "predict_loss":
            raise ValueError(f"params: missing {', '.join(missing)}")
        p = {"E": 0.0, **params}  # allocate needs only A, B, alpha, beta
        missing = [k for k in ("A", "B", "alpha", "beta") if k not in p]
        if missing:
            raise ValueError(f"params: missing {', '.join(missing)}")
        return ScalingLaw(**{k: p[k] for k in ("E", "A", "B", "alpha", "beta")})
    if isinstance(self_or_cls, type):
        raise ValueError(f"{what}: pass params when calling it on the class")
    return self_or_cls._require_law(what)
