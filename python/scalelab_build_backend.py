"""PEP 517 build backend for `pip install .` (pyproject.toml points here with backend-path).

It needs nothing from PyPI (no setuptools, no scikit-build): the package is one CMake target, so the
backend configures the project with CMake (no LibTorch, no tests, for the interpreter running pip),
builds `_scalelab`, and zips <build>/python/scalelab/ into a wheel (PEP 427: the files, METADATA,
WHEEL and RECORD with sha256 digests). Everything it needs -- CMake, a C++20 compiler, pybind11 and
the Debian -dev packages -- is what scripts/install-deps.sh installs.

The build directory is `build-python/` in the source tree, or $SCALELAB_BUILD_DIR (an existing
configured build, e.g. `build/`: only the module is rebuilt there, which takes seconds).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

NAME = "scalelab"
VERSION = "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Compute-optimal language-model sizing: Chinchilla scaling-law fits, run databases, BPE tokenizers and exact accounting (scalelab's C++ engine)
License: see the repository
Requires-Python: >=3.9
Requires-Dist: numpy
"""


def _tag() -> str:
    impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
    abi = impl + sys.abiflags
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{impl}-{abi}-{plat}"


def _dist_info() -> str:
    return f"{NAME}-{VERSION}.dist-info"


def _wheel_file() -> str:
    return f"Wheel-Version: 1.0\nGenerator: scalelab_build_backend\nRoot-Is-Purelib: false\nTag: {_tag()}\n"


def _run(cmd: list[str]) -> None:
    print("scalelab build:", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def _build_module() -> str:
    """Builds _scalelab; returns the package directory <build>/python/scalelab."""
    build = os.environ.get("SCALELAB_BUILD_DIR") or os.path.join(ROOT, "build-python")
    build = os.path.abspath(build)
    if shutil.which("cmake") is None:
        raise RuntimeError("scalelab: cmake not found (run scripts/install-deps.sh)")
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        cmd = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
               "-DSCALELAB_WITH_TORCH=OFF", "-DSCALELAB_BUILD_TESTS=OFF", "-DSCALELAB_BUILD_BENCH=OFF",
               f"-DPython3_EXECUTABLE={sys.executable}"]
        if shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        _run(cmd)
    _run(["cmake", "--build", build, "--target", "_scalelab", "--parallel", str(os.cpu_count() or 1)])
    pkg = os.path.join(build, "python", NAME)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    if not os.path.exists(os.path.join(pkg, "_scalelab" + suffix)):
        built = [f for f in os.listdir(pkg) if f.startswith("_scalelab")] if os.path.isdir(pkg) else []
        raise RuntimeError(f"scalelab: {build} has no module for this Python ({'_scalelab' + suffix}; "
                           f"found {', '.join(built) or 'none'}): its CMake cache is for another "
                           "interpreter (SCALELAB_BUILD_DIR must be configured with this one)")
    return pkg


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


# ---- PEP 517 hooks

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    d = os.path.join(metadata_directory, _dist_info())
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w", encoding="utf-8") as f:
        f.write(METADATA)
    with open(os.path.join(d, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_file())
    return _dist_info()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    pkg = _build_module()
    name = f"{NAME}-{VERSION}-{_tag()}.whl"
    path = os.path.join(wheel_directory, name)
    record = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for dirpath, dirnames, filenames in os.walk(pkg):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for fn in sorted(filenames):
                full = os.path.join(dirpath, fn)
                arc = os.path.join(NAME, os.path.relpath(full, pkg)).replace(os.sep, "/")
                with open(full, "rb") as f:
                    data = f.read()
                z.writestr(arc, data)
                record.append(_record_line(arc, data))
        for fn, text in (("METADATA", METADATA), ("WHEEL", _wheel_file())):
            arc = f"{_dist_info()}/{fn}"
            z.writestr(arc, text)
            record.append(_record_line(arc, text.encode()))
        record.append(f"{_dist_info()}/RECORD,,")
        z.writestr(f"{_dist_info()}/RECORD", "\n".join(record) + "\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    """The files git tracks, as NAME-VERSION.tar.gz."""
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    name = f"{NAME}-{VERSION}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for f in filter(None, files):
            t.add(os.path.join(ROOT, f), arcname=f"{NAME}-{VERSION}/{f}", recursive=False)
        info = tarfile.TarInfo(f"{NAME}-{VERSION}/PKG-INFO")
        data = METADATA.encode()
        info.size = len(data)
        import io
        t.addfile(info, io.BytesIO(data))
    return name
