"""`pip install .` into a virtual environment (no network: the in-tree backend needs nothing from
PyPI), then `import scalelab` there, away from the source and build trees. The backend reuses the
CTest build directory (SCALELAB_BUILD_DIR), so only the module is packed, not rebuilt."""

import os
import subprocess
import sys
import zipfile

import pytest


@pytest.mark.skipif("SCALELAB_BUILD_DIR" not in os.environ, reason="needs the CTest build directory")
def test_pip_install_into_a_venv_and_import(tmp_path, source_dir):
    venv = tmp_path / "venv"
    r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                       capture_output=True, text=True)
    if r.returncode != 0 or not (venv / "bin" / "pip").exists():
        pytest.skip(f"no venv with pip here: {r.stderr.strip()[-200:]}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    wheels = tmp_path / "wheels"
    subprocess.run([str(venv / "bin" / "pip"), "wheel", "--no-index", "--no-deps", "-w", str(wheels),
                    source_dir], check=True, env=env, capture_output=True)
    (wheel,) = list(wheels.iterdir())
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        record = z.read("scalelab-0.1.0.dist-info/RECORD").decode()
    assert "scalelab/__init__.py" in names and "scalelab/data/chinchilla_paper_runs.csv" in names
    assert any(n.startswith("scalelab/_scalelab.") and n.endswith(".so") for n in names)
    assert all(n in record for n in names if not n.endswith("RECORD"))
    subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", str(wheel)], check=True,
                   env=env, capture_output=True)
    code = ("import scalelab, os; law = scalelab.fit(scalelab.chinchilla_paper_runs(), bootstrap=0);"
            "print(os.path.dirname(scalelab.__file__)); print(round(law.allocate(1e24).N / 1e9, 3))")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], check=True, env=env,
                         cwd=tmp_path, capture_output=True, text=True).stdout.split()
    assert out[0].startswith(str(venv)) and out[1] == "85.368"
