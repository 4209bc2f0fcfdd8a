"""scalelab from Python: fit and plan Chinchilla scaling laws, read and write runs, train and run
byte-level BPE tokenizers and account a model's parameters, FLOPs and memory -- the same C++ engine
as the ``scalelab`` command line, without LibTorch.

>>> import scalelab
>>> runs = scalelab.chinchilla_paper_runs()          # the paper's 234 runs, bundled
>>> law = scalelab.fit(runs, bootstrap=100)          # L(N, D) = E + A/N^alpha + B/D^beta
>>> law.allocate(1e24)                               # Allocation(C=1e+24, N=..., D=..., loss=...)

Errors are Python exceptions carrying scalelab's one-line message: ValueError for a bad value or
a malformed file, TypeError for a wrong type, FileNotFoundError for a missing path. See
docs/python.md for the whole API and how each call of the ``chinchilla`` package maps to ours.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

try:
    import numpy as np
except ImportError as e:  # the module converts every array through numpy
    raise ImportError(f"scalelab needs numpy, which {__import__('sys').executable} cannot import "
                      "(Debian: apt-get install python3-numpy; a venv: create it with "
                      "--system-site-packages or pip install numpy)") from e

from . import _scalelab as _core
from ._arrays import column, existing_path, float_array, path_str, same_length

__version__ = "0.1.0"

__all__ = [
    "Allocation", "ScalingLaw", "IsoflopResult", "Runs", "Tokenizer", "Chinchilla", "fit",
    "isoflop", "simulate", "account", "presets", "chinchilla_paper_runs", "HOFFMANN_2022",
]

_DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


class Allocation(NamedTuple):
    """The compute-optimal split of a budget C = 6ND: N parameters, D tokens, the predicted loss.
    Fields are floats for a scalar C and numpy arrays for an array of budgets."""
    C: Any
    N: Any
    D: Any
    loss: Any

    @property
    def tokens_per_param(self) -> Any:
        return self.D / self.N


def _scalar_or_array(a: np.ndarray) -> Any:
    return float(a) if np.ndim(a) == 0 else a


class ScalingLaw:
    """The parametric loss L(N, D) = E + A/N^alpha + B/D^beta (Hoffmann et al. 2022, eq. 2) and
    what follows from it in closed form.

    Made by :func:`fit` (then ``intervals``, ``fit_info`` and ``bootstrap`` describe the fit), or
    directly: ``ScalingLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)``.
    """

    def __init__(self, E: float, A: float, B: float, alpha: float, beta: float):
        for name, v in (("E", E), ("A", A), ("B", B), ("alpha", alpha), ("beta", beta)):
            float_array(v, name, positive=False, scalar_ok=True)
        self._law = _core.Law(float(E), float(A), float(B), float(alpha), float(beta))
        self.fit_info: dict | None = None
        """The fit's report (method, loss, objective, starts, R², warnings), or None."""
        self.bootstrap: dict | None = None
        """The bootstrap's report (samples, parameter and budget intervals), or None."""
        self._intervals: dict[str, tuple[float, float]] = {}

    @classmethod
    def _from_core(cls, law: Any) -> "ScalingLaw":
        return cls(law.E, law.A, law.B, law.alpha, law.beta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ScalingLaw":
        """Reads a law written by :meth:`save` or by ``scalelab fit`` (scaling_law.json)."""
        p = existing_path(path, "path")
        with open(p, encoding="utf-8") as f:
            text = f.read()
        law = cls._from_core(_core.law_from_json(text, p))  # errors name the file
        j = json.loads(text)
        if isinstance(j, dict):
            law.fit_info = j.get("fit")
            law.bootstrap = j.get("bootstrap")
            iv = (j.get("intervals") or {}) if isinstance(j.get("intervals"), dict) else {}
            law._intervals = {k: (float(v[0]), float(v[1])) for k, v in iv.items()}
        return law

    @classmethod
    def from_json(cls, text: str) -> "ScalingLaw":
        """From {"E":…, "A":…, "B":…, "alpha":…, "beta":…}, alone or as a fit result's "law"."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        return cls._from_core(_core.law_from_json(text, "law"))

    # ---- parameters
    @property
    def params(self) -> dict[str, float]:
        """{"E", "A", "B", "alpha", "beta"} (the ``chinchilla`` package's get_params())."""
        l = self._law
        return {"E": l.E, "A": l.A, "B": l.B, "alpha": l.alpha, "beta": l.beta}

    @property
    def intervals(self) -> dict[str, tuple[float, float]]:
        """Bootstrap percentile intervals (lo, hi) of E, A, B, alpha, beta, a and b; empty when
        the fit ran without a bootstrap."""
        return dict(self._intervals)

    E = property(lambda self: self._law.E)
    A = property(lambda self: self._law.A)
    B = property(lambda self: self._law.B)
    alpha = property(lambda self: self._law.alpha)
    beta = property(lambda self: self._law.beta)

    @property
    def a(self) -> float:
        """beta/(alpha+beta): N_opt grows as C^a."""
        return self._law.a

    @property
    def b(self) -> float:
        """alpha/(alpha+beta): D_opt grows as C^b."""
        return self._law.b

    # ---- predictions
    def predict(self, N: Any, D: Any) -> Any:
        """L(N, D); scalars give a float, arrays (broadcast) an array."""
        n = float_array(N, "N", scalar_ok=True)
        d = float_array(D, "D", scalar_ok=True)
        return _scalar_or_array(np.asarray(self._law.predict(n, d)))

    __call__ = predict
    predict_loss = predict

    def allocate(self, C: Any) -> Allocation:
        """The compute-optimal N and D for a budget of C FLOPs (C = 6ND) and the loss there:
        N_opt = G (C/6)^a, D_opt = (C/6)^b / G (Hoffmann et al. 2022, App. D.2)."""
        c = float_array(C, "C", scalar_ok=True)
        if c.ndim == 0:
            n, d, loss = self._law.allocate(float(c))
            return Allocation(float(c), n, d, loss)
        out = np.array([self._law.allocate(float(x)) for x in c]).reshape(-1, 3)
        return Allocation(c, out[:, 0], out[:, 1], out[:, 2])

    def allocate_with_inference(self, C: float, inference_tokens: float) -> dict:
        """The N and D that reach allocate(C).loss with the least training plus inference compute,
        6ND + 2N*T, for a model that will serve T tokens (Sardana et al. 2024)."""
        c = float(float_array(C, "C", scalar_ok=True))
        t = float(float_array(inference_tokens, "inference_tokens", allow_zero=True, scalar_ok=True))
        return self._law.allocate_with_inference(c, t)

    def adjust_D_to_N(self, N: Any) -> Any:
        """The compute-optimal D for a model of N parameters: D = G^-(1+b/a) N^(b/a)."""
        return _scalar_or_array(np.asarray(self._law.adjust_D_to_N(float_array(N, "N", scalar_ok=True))))

    def compute_for_loss(self, loss: float) -> float:
        """The least compute (FLOPs) whose compute-optimal model reaches `loss` (> E)."""
        return self._law.compute_for_loss(float(float_array(loss, "loss", scalar_ok=True)))

    def excess_compute(self, C: float, N: float) -> float:
        """How much more compute than needed a model of N parameters spends at budget C (0 at
        N_opt): C / compute_for_loss(L(N, C/6N)) - 1."""
        return self._law.excess_compute(float(float_array(C, "C", scalar_ok=True)),
                                        float(float_array(N, "N", scalar_ok=True)))

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"law": self.params}
        if self.fit_info is not None:
            d["fit"] = self.fit_info
        if self._intervals:
            d["intervals"] = {k: list(v) for k, v in self._intervals.items()}
        if self.bootstrap is not None:
            d["bootstrap"] = self.bootstrap
        return d

    def to_json(self, indent: int | None = 2) -> str:
        """The law (and the fit and intervals when there are some) as JSON that :meth:`load`,
        ``scalelab allocate --params`` and ``scalelab predict --params`` read."""
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | os.PathLike) -> None:
        with open(path_str(path, "path"), "w", encoding="utf-8") as f:
            f.write(self.to_json() + "\n")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScalingLaw) and self.params == other.params

    def __repr__(self) -> str:
        p = self.params
        return (f"ScalingLaw(E={p['E']:.6g}, A={p['A']:.6g}, B={p['B']:.6g}, "
                f"alpha={p['alpha']:.6g}, beta={p['beta']:.6g})")

    def __reduce__(self):
        return (ScalingLaw, (self.E, self.A, self.B, self.alpha, self.beta))


HOFFMANN_2022 = ScalingLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
"""The parameters Hoffmann et al. 2022 report for approach 3 (their eq. 4)."""


# ---- runs


class Runs:
    """Training runs: N parameters trained on D tokens for C FLOPs reached `loss`, with an optional
    budget label per run and extra columns. Reads and writes the ``chinchilla`` package's CSV
    (C, N, D, loss, extra columns) and scalelab's run database (runs.db); converts from and to numpy
    arrays and any mapping of columns (a dict, a pandas DataFrame).

    >>> runs = Runs(N=[1e8, 2e8], D=[2e9, 1e9], loss=[3.1, 3.0])   # C = 6ND when not given
    >>> runs.to_csv("runs.csv"); Runs.from_csv("runs.csv").N
    """

    _CORE = ("C", "N", "D", "loss", "budget")

    def __init__(self, N: Any = (), D: Any = (), loss: Any = (), C: Any = None,
                 budget: Sequence[str] | None = None, **extra: Any):
        self.N = float_array(N, "N")
        self.D = float_array(D, "D")
        self.loss = float_array(loss, "loss")
        n = same_length(N=self.N, D=self.D, loss=self.loss)
        if C is None:
            self.C = 6.0 * self.N * self.D
        else:
            self.C = float_array(C, "C")
            same_length(N=self.N, C=self.C)
        if budget is None:
            self.budget = [""] * n
        else:
            if isinstance(budget, str):
                raise TypeError("budget: expected a sequence of labels, got a single str")
            self.budget = ["" if b is None or (isinstance(b, float) and np.isnan(b)) else str(b)
                           for b in budget]
            if len(self.budget) != n:
                raise ValueError(f"budget: {len(self.budget)} labels for {n} runs")
        self.extra: dict[str, list] = {}
        for k, v in extra.items():
            col = v.tolist() if hasattr(v, "tolist") else list(v)
            if len(col) != n:
                raise ValueError(f"{k}: {len(col)} values for {n} runs")
            self.extra[k] = col
        self.ids: list[int] | None = None
        self.status: list[str] | None = None

    @classmethod
    def _from_core(cls, d: dict) -> "Runs":
        r = cls.__new__(cls)
        r.C, r.N, r.D, r.loss, r.budget = d["C"], d["N"], d["D"], d["loss"], d["budget"]
        r.extra = dict(d["extra"])
        r.ids = d.get("id")
        r.status = d.get("status")
        return r

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> "Runs":
        """The ``chinchilla`` package's CSV: a header with N, D and loss, C optional (6ND when
        absent or empty), a `budget` column as labels, every other column kept as text."""
        return cls._from_core(_core.read_csv(existing_path(path, "path")))

    @classmethod
    def from_db(cls, path: str | os.PathLike, status: str | None = "done") -> "Runs":
        """The runs of a scalelab run database (default: the done ones; None = all, with loss NaN
        for unfinished runs). ``ids`` and ``status`` hold the database's."""
        if status is not None and not isinstance(status, str):
            raise TypeError(f"status: expected str or None, got {type(status).__name__}")
        return cls._from_core(_core.read_db(existing_path(path, "path"), status))

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any]) -> "Runs":
        """From a dict of arrays or a pandas DataFrame: columns N, D and loss; C and budget when
        present; every other column kept as extra."""
        if isinstance(columns, Runs):
            return columns
        if not hasattr(columns, "keys"):
            raise TypeError(f"columns: expected a mapping of columns (dict, DataFrame), got "
                            f"{type(columns).__name__}")
        keys = [str(k) for k in columns.keys()]
        get = lambda k: column(columns, k, "columns")  # noqa: E731
        C = get("C") if "C" in keys else None
        budget = get("budget") if "budget" in keys else None
        if budget is not None and hasattr(budget, "tolist"):
            budget = budget.tolist()
        extra = {k: get(k) for k in keys if k not in cls._CORE}
        return cls(N=get("N"), D=get("D"), loss=get("loss"), C=C, budget=budget, **extra)

    from_pandas = from_columns

    def _core_args(self) -> tuple:
        return (self.C, self.N, self.D, self.loss, list(self.budget), self.extra)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Writes C, N, D, loss, then budget and the extra columns (numbers in their shortest
        round-trip form, so a CSV read and written back is the same file)."""
        _core.write_csv(path_str(path, "path"), *self._core_args())

    def to_db(self, path: str | os.PathLike) -> list[int]:
        """Appends the runs (status done) to a run database, creating it if needed, in one
        transaction; returns their ids."""
        return _core.append_db(path_str(path, "path"), *self._core_args())

    def to_dict(self) -> dict[str, Any]:
        """{"C", "N", "D", "loss": float arrays, "budget": labels, extra columns}; what a pandas
        DataFrame takes: ``pd.DataFrame(runs.to_dict())``."""
        d: dict[str, Any] = {"C": self.C, "N": self.N, "D": self.D, "loss": self.loss,
                             "budget": list(self.budget)}
        d.update(self.extra)
        return d

    def to_numpy(self, columns: Sequence[str] = ("C", "N", "D", "loss")) -> np.ndarray:
        """A (runs × columns) float64 array."""
        d = self.to_dict()
        return np.column_stack([np.asarray(column(d, c, "runs"), dtype=np.float64) for c in columns])

    def to_pandas(self):
        """A pandas DataFrame of to_dict() (pandas is not a dependency: ImportError without it)."""
        import pandas as pd  # noqa: PLC0415
        return pd.DataFrame(self.to_dict())

    def __len__(self) -> int:
        return len(self.N)

    def __getitem__(self, name: str) -> Any:
        return column(self.to_dict(), name, "runs")

    def keys(self) -> list[str]:
        return list(self.to_dict().keys())

    def __repr__(self) -> str:
        if not len(self):
            return "Runs(0 runs)"
        return (f"Runs({len(self)} runs, C {self.C.min():.3g}–{self.C.max():.3g}, "
                f"N {self.N.min():.3g}–{self.N.max():.3g}, D {self.D.min():.3g}–{self.D.max():.3g})")


def chinchilla_paper_runs() -> Runs:
    """The Chinchilla paper's 234 runs (Hoffmann et al. 2022, via the ``chinchilla`` package;
    data/chinchilla_paper_runs.csv)."""
    return Runs.from_csv(os.path.join(_DATA_DIR, "chinchilla_paper_runs.csv"))


def _runs_args(N: Any, D: Any, loss: Any, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, Runs | None]:
    if D is None and loss is None:
        runs = Runs.from_columns(N)
        return runs.N, runs.D, runs.loss, runs
    if D is None or loss is None:
        raise TypeError(f"{what}: give N, D and loss, or one Runs/mapping of columns")
    n = float_array(N, "N")
    d = float_array(D, "D")
    l = float_array(loss, "loss")
    same_length(N=n, D=d, loss=l)
    return n, d, l, None


_LOSS_NAMES = {"log-huber", "huber", "mse", "mae", "asymmetric-mae"}


def _loss_name(loss_fn: Any) -> str:
    """A loss by name, or the ``chinchilla`` package's functions by theirs (log_huber → log-huber)."""
    name = loss_fn if isinstance(loss_fn, str) else getattr(loss_fn, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"loss_fn: expected one of {', '.join(sorted(_LOSS_NAMES))}, got "
                        f"{type(loss_fn).__name__}")
    name = name.replace("_", "-")
    if name not in _LOSS_NAMES:
        raise ValueError(f"loss_fn: expected one of {', '.join(sorted(_LOSS_NAMES))}, got {name!r}"
                         + ("" if isinstance(loss_fn, str) else
                            " (custom loss callables are not supported)"))
    return name


def fit(N: Any, D: Any = None, loss: Any = None, *, method: str = "varpro",
        loss_fn: Any = "log-huber", delta: float | None = None, bootstrap: int = 200,
        seed: int = 0, confidence: float = 0.95, weights: Any = None,
        param_grid: Mapping[str, Any] | None = None, budgets: Iterable[float] = (),
        threads: int = 0, **options: Any) -> ScalingLaw:
    """Fits L(N, D) = E + A/N^alpha + B/D^beta to runs (Hoffmann et al. 2022, approach 3).

    N, D, loss: arrays of equal length (or one :class:`Runs`, dict or DataFrame with those columns).
    method: "varpro" (variable projection: milliseconds, the default) or "grid" (L-BFGS from every
        start of ``param_grid``, default the paper's 4,500: the ``chinchilla`` package's procedure).
    loss_fn: "log-huber" (the paper's), "huber", "mse", "mae" or "asymmetric-mae" (the package's
        default); the package's functions (``chinchilla.log_huber`` …) are taken by name.
    delta: Huber delta; None = the loss's default (1e-3 for log-huber, 1.0 for huber).
    bootstrap: resamples for the percentile intervals in ``.intervals`` (0 = none).
    budgets: FLOP budgets whose N_opt, D_opt, L_opt intervals the bootstrap also reports.
    param_grid: start grid for method="grid": {"e"|"E", "a"|"A", "b"|"B", "alpha", "beta"} → values
        (or {"start", "stop", "num"}); E, A, B as values, e, a, b as their logs.
    options: any other field of the fit's table (docs/config.md, "Scaling-law fit"): alpha_min, search_step,
        asymmetric_weight, precision, max_iterations, …
    """
    n, d, l, _ = _runs_args(N, D, loss, "fit")
    w = None
    if weights is not None:
        w = float_array(weights, "weights", allow_zero=True)
        same_length(N=n, weights=w)
    opts = dict(options)
    opts["method"] = method
    opts["loss"] = _loss_name(loss_fn)
    opts["threads"] = threads
    if delta is not None:
        opts["delta"] = delta
    if not isinstance(bootstrap, (int, np.integer)) or isinstance(bootstrap, bool):
        raise TypeError(f"bootstrap: expected a number of resamples, got {type(bootstrap).__name__}")
    boot = {"samples": int(bootstrap), "seed": seed, "confidence": confidence}
    bud = [float(x) for x in float_array(list(budgets), "budgets")] if list(budgets) else []
    try:
        r = _core.fit(n, d, l, w, opts, param_grid, boot, bud)
    except ValueError as e:  # the engine names the grid as the CLI's --grid file does
        msg = str(e)
        raise ValueError("param_" + msg if msg.startswith("grid.") else msg) from None
    law = ScalingLaw._from_core(r["law"])
    law.fit_info = r["fit"]
    law.bootstrap = r["bootstrap"]
    law._intervals = {k: (float(v[0]), float(v[1])) for k, v in r["intervals"].items()}
    return law


# ---- IsoFLOP


class IsoflopResult:
    """IsoFLOP analysis (Hoffmann et al. 2022, approach 2): a parabola of loss against ln N per
    budget, its vertex as N_opt(C), and power laws N_opt = k C^a, D_opt = k' C^b across budgets.

    budgets: one dict per budget (budget, C, runs, parabola, convex, N_opt, D_opt, loss_opt, rmse,
    warning); n_opt, d_opt: {"exponent", "coefficient", "r2", "points"}; targets: N_opt, D_opt at
    the requested budgets; warnings: what the data could not support."""

    def __init__(self, d: dict):
        self.budgets: list[dict] = d["budgets"]
        self.n_opt: dict = d["N_opt"]
        self.d_opt: dict = d["D_opt"]
        self.targets: list[dict] = d["targets"]
        self.warnings: list[str] = d["warnings"]

    def to_dict(self) -> dict:
        return {"budgets": self.budgets, "N_opt": self.n_opt, "D_opt": self.d_opt,
                "targets": self.targets, "warnings": self.warnings}

    def __repr__(self) -> str:
        return (f"IsoflopResult({len(self.budgets)} budgets, N_opt ∝ C^{self.n_opt['exponent']:.3f}, "
                f"D_opt ∝ C^{self.d_opt['exponent']:.3f})")


def isoflop(N: Any, D: Any = None, loss: Any = None, *, C: Any = None,
            budget: Sequence[str] | None = None, tolerance: float = 0.05, min_runs: int = 3,
            skip_small: bool = False, targets: Iterable[float] = (),
            include_extrapolated: bool = False) -> IsoflopResult:
    """IsoFLOP parabolas and power laws. Runs group by `budget` label when every run has one, else
    by C within `tolerance` in ln C (C = 6ND when not given). Budgets with fewer than `min_runs`
    runs are an error, or left out with skip_small. `targets`: budgets to extrapolate N_opt, D_opt
    to. A budget whose vertex lies outside its sampled N is left out of the power laws unless
    include_extrapolated."""
    n, d, l, runs = _runs_args(N, D, loss, "isoflop")
    if C is None:
        c = runs.C if runs is not None else 6.0 * n * d
    else:
        c = float_array(C, "C")
        same_length(N=n, C=c)
    labels: list[str] = []
    if budget is not None:
        labels = [str(b) for b in budget]
        if len(labels) != len(n):
            raise ValueError(f"budget: {len(labels)} labels for {len(n)} runs")
    elif runs is not None and all(runs.budget):
        labels = list(runs.budget)
    t = [float(x) for x in float_array(list(targets), "targets")] if list(targets) else []
    try:
        return IsoflopResult(_core.isoflop(n, d, c, l, labels, float(tolerance), int(min_runs),
                                           bool(skip_small), t, bool(include_extrapolated)))
    except ValueError as e:  # the engine's message names the CLI flag
        raise ValueError(str(e).replace("--skip-small", "skip_small=True")) from None


# ---- simulation


def simulate(runs: int = 100, *, seed: int = 0, law: ScalingLaw | Mapping[str, float] | None = None,
             noise: str = "exponential", noise_scale: float = 0.1,
             C: tuple[float, float] = (1e15, 1e16), N_to_D: tuple[float, float] = (10, 100),
             scaling_steps: int = 0, scaling_factor: float = 10.0) -> Runs:
    """Synthetic runs from a known law (the ``chinchilla`` package's Simulator): C and D/N drawn
    log-uniformly in the seed ranges, loss = L(N, D) + noise (exponential with mean noise_scale,
    the package's default; "gaussian" with sigma noise_scale; or "none"). scaling_steps > 0 then
    fits and appends a run at max C x scaling_factor, that many times. The law defaults to the
    package's (Hoffmann et al.'s to more digits). The extra column "seeded" says which runs came
    from the seed ranges. Deterministic for a seed."""
    if law is None:
        truth = _core.Law(1.69337368, 406.401018, 410.722827, 0.33917084, 0.2849083)
    elif isinstance(law, ScalingLaw):
        truth = law._law
    else:
        p = dict(law)
        truth = ScalingLaw(**{k: p[k] for k in ("E", "A", "B", "alpha", "beta")})._law
    c = float_array(list(C), "C")
    r = float_array(list(N_to_D), "N_to_D")
    if len(c) != 2 or len(r) != 2:
        raise ValueError("C and N_to_D: expected (min, max)")
    d = _core.simulate(int(runs), int(seed), noise, float(noise_scale), truth, c[0], c[1], r[0], r[1],
                       int(scaling_steps), float(scaling_factor), {}, None)
    return Runs(N=d["N"], D=d["D"], loss=d["loss"], C=d["C"], seeded=d["seeded"])


# ---- tokenizer


class Tokenizer:
    """A byte-level BPE tokenizer (GPT-2 / tiktoken semantics): train one, or load scalelab's,
    GPT-2's, tiktoken's (``cl100k_base.tiktoken`` …) or Hugging Face's (``tokenizer.json``) files.
    Ids are numpy int32 arrays."""

    def __init__(self, core: Any):
        if not isinstance(core, _core.Tokenizer):
            raise TypeError("use Tokenizer.train, Tokenizer.train_from_text or Tokenizer.load")
        self._tok = core

    @classmethod
    def train(cls, files: str | os.PathLike | Sequence[str | os.PathLike], vocab_size: int,
              special_tokens: Sequence[str] = ("<|endoftext|>",), pattern: str = "gpt2",
              threads: int = 0) -> "Tokenizer":
        """Trains on the files (each also a document boundary) to vocab_size tokens: special
        tokens, then the 256 bytes, then merges (CS336 semantics: ties to the greater pair).
        pattern: the pre-tokenizer, "gpt2", "cl100k", "o200k" or "llama3"."""
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        paths = [existing_path(f, "files") for f in files]
        return cls(_core.train_tokenizer(paths, int(vocab_size), _specials(special_tokens),
                                         pattern, int(threads)))

    @classmethod
    def train_from_text(cls, text: str, vocab_size: int,
                        special_tokens: Sequence[str] = ("<|endoftext|>",), pattern: str = "gpt2",
                        threads: int = 0) -> "Tokenizer":
        """The same as train() on one string."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        return cls(_core.train_tokenizer_text(text, int(vocab_size), _specials(special_tokens),
                                              pattern, int(threads)))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Tokenizer":
        """Any tokenizer scalelab reads: a directory written by save(), GPT-2's vocab.json +
        merges.txt, a tokenizer.json, or a tiktoken rank file named after its encoding."""
        return cls(_core.load_tokenizer(existing_path(path, "path")))

    def save(self, directory: str | os.PathLike) -> None:
        """vocab.json, merges.txt and tokenizer_config.json (GPT-2's format plus our config)."""
        d = path_str(directory, "directory")
        os.makedirs(d, exist_ok=True)
        self._tok.save(d)

    def encode(self, text: str, *, ordinary: bool = False) -> np.ndarray:
        """Token ids of text. Special tokens in the text are recognised (tiktoken's
        allowed_special="all"); ordinary=True treats them as text (encode_ordinary)."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        return self._tok.encode(text, bool(ordinary))

    def encode_ordinary(self, text: str) -> np.ndarray:
        return self.encode(text, ordinary=True)

    def encode_batch(self, texts: Sequence[str], *, ordinary: bool = False,
                     threads: int = 0) -> list[np.ndarray]:
        """encode() of every text, on `threads` threads (0 = all cores) with the GIL released."""
        if isinstance(texts, str):
            raise TypeError("texts: expected a sequence of str, got a single str")
        return self._tok.encode_batch(list(texts), bool(ordinary), int(threads))

    def decode(self, ids: Any) -> str:
        """Text of ids (invalid UTF-8 across token boundaries becomes U+FFFD)."""
        return self._tok.decode(ids)

    def decode_bytes(self, ids: Any) -> bytes:
        return self._tok.decode_bytes(ids)

    def token_bytes(self, id: int) -> bytes:
        return self._tok.token_bytes(int(id))

    @property
    def vocab_size(self) -> int:
        return self._tok.vocab_size

    @property
    def special_tokens(self) -> dict[str, int]:
        return self._tok.special_tokens

    @property
    def pattern(self) -> str:
        return self._tok.pattern

    def __repr__(self) -> str:
        return f"Tokenizer(vocab_size={self.vocab_size}, pattern={self.pattern!r})"


def _specials(special_tokens: Sequence[str]) -> list[str]:
    if isinstance(special_tokens, str):
        raise TypeError("special_tokens: expected a sequence of str, got a single str")
    out = list(special_tokens)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise TypeError(f"special_tokens[{i}]: expected str, got {type(s).__name__}")
    return out


# ---- accounting


def account(shape: str | Mapping[str, Any] | None = None, **options: Any) -> dict:
    """Parameters, FLOPs and memory of a model, as ``scalelab account --json`` reports them.

    shape: a preset name ("gpt2-small", see presets()) or a dict of model-shape fields
        (vocab_size, context_length, d_model, n_layers, n_heads, n_kv_heads, d_ff, ffn,
        tied_embeddings, rope); missing fields keep their defaults.
    options: gpu ("h100-sxm"), n_gpus, tokens (D; 0 = 20 per parameter), mfu, reserve_gib,
        batch_size, seq_len, precision ("fp32", "bf16-mixed", "bf16"), flash_attention,
        recompute, attention ("full" or "causal").
    """
    if shape is None:
        shape = {}
    if not isinstance(shape, (str, Mapping)):
        raise TypeError(f"shape: expected a preset name or a dict of fields, got {type(shape).__name__}")
    return _core.account(shape if isinstance(shape, str) else dict(shape), options)


def presets() -> dict[str, dict]:
    """The named model shapes account() and the CLI know."""
    return _core.presets()


from .chinchilla import Chinchilla  # noqa: E402  (uses the names above)
