"""Argument checking shared by the package: every array the engine reads passes through here, so a
NaN, a negative size, a string column or two columns of different lengths raise a Python exception
naming the argument (and the element) before any C++ runs."""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np


def _type_name(x: Any) -> str:
    return type(x).__name__


def float_array(x: Any, name: str, *, positive: bool = True, allow_zero: bool = False,
                scalar_ok: bool = False) -> np.ndarray:
    """x as a C-contiguous float64 array (1-D, or 0-D when scalar_ok), checked finite and, with
    positive, > 0 (>= 0 with allow_zero). Raises TypeError for non-numbers (strings, bools,
    objects that are not numbers) and ValueError naming the first bad element."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name}: expected numbers, got {_type_name(x)} {x!r}")
    try:
        a = np.asarray(x)
    except Exception as e:  # ragged nested lists and the like
        raise TypeError(f"{name}: expected an array of numbers ({e})") from None
    if a.dtype.kind == "b":
        raise TypeError(f"{name}: expected numbers, got booleans")
    if a.dtype.kind in "USO" and not isinstance(x, np.ndarray) and a.ndim == 1:
        # a list with a non-number in it: name the element
        for i, v in enumerate(x):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
                raise TypeError(f"{name}[{i}]: expected a number, got {_type_name(v)} {v!r}")
    if a.dtype.kind not in "iuf":
        if a.dtype.kind == "O":
            try:
                a = a.astype(np.float64)
            except (TypeError, ValueError):
                bad = next((v for v in a.ravel() if not isinstance(v, (int, float, np.number))), None)
                raise TypeError(f"{name}: expected numbers, got {_type_name(bad)} {bad!r}") from None
        else:
            raise TypeError(f"{name}: expected numbers, got an array of dtype {a.dtype}")
    a = np.asarray(a, dtype=np.float64, order="C")
    if a.ndim == 0:
        if not scalar_ok:
            raise TypeError(f"{name}: expected a 1-D array of numbers, got a single number")
    elif a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {a.shape}")
    flat = a.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(flat))
    if bad.size:
        i = int(bad[0])
        where = name if a.ndim == 0 else f"{name}[{i}]"
        raise ValueError(f"{where}: {flat[i]} is not a finite number")
    if positive:
        bad = np.flatnonzero(flat < 0 if allow_zero else flat <= 0)
        if bad.size:
            i = int(bad[0])
            where = name if a.ndim == 0 else f"{name}[{i}]"
            need = ">= 0" if allow_zero else "positive"
            raise ValueError(f"{where}: must be {need}, got {flat[i]:g}")
    return a


def same_length(**arrays: np.ndarray) -> int:
    """The common length of 1-D arrays; ValueError listing the lengths when they differ."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"{', '.join(lengths)} differ in length: {detail}")
    return next(iter(lengths.values()), 0)


def column(mapping: Mapping[str, Any], name: str, source: str) -> Any:
    """mapping[name] for a dict, a pandas DataFrame or anything with keys(); KeyError → ValueError
    naming the column and the columns there are."""
    try:
        return mapping[name]
    except (KeyError, IndexError):
        keys = list(mapping.keys()) if hasattr(mapping, "keys") else []
        raise ValueError(f"{source}: no column '{name}' (columns: {', '.join(map(str, keys))})") from None


def path_str(path: Any, name: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a path (str or os.PathLike), got {_type_name(path)}")
    return os.fspath(path)


def existing_path(path: Any, name: str) -> str:
    p = path_str(path, name)
    if not os.path.exists(p):
        raise FileNotFoundError(2, f"{name}: no such file or directory", p)
    return p
