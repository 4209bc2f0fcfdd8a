"""The README's Python example prints what the README says it prints."""

import os
import re
import subprocess
import sys


def test_readme_example_output(source_dir, tmp_path):
    readme = open(os.path.join(source_dir, "README.md"), encoding="utf-8").read()
    section = readme[readme.index("## Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    want = re.search(r"prints\n\n```text\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         cwd=tmp_path).stdout
    assert out == want
