"""The import layers of pyproject.toml's ``[tool.importlinter]`` hold, and they catch a breach.

``lint-imports`` reads the contracts from pyproject.toml (the repository root) and the package
from ``PYTHONPATH``; imports inside functions count.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _lint_imports(src: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).parent / "lint-imports"
    if not executable.is_file():
        pytest.skip(f"lint-imports is not installed beside {sys.executable}")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(executable), "--no-cache", "--no-logo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_its_import_layers():
    result = _lint_imports(REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_infer_or_flow_importing_train_inside_a_function_breaks_the_layers(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO / "src" / "ethogram", src / "ethogram")
    for module in ("infer/sequence.py", "flow/api.py"):
        with open(src / "ethogram" / module, "a") as f:
            f.write("\n\ndef _uses_training():\n    from ethogram.train import common\n")
    result = _lint_imports(src)
    assert result.returncode != 0
    assert "ethogram.infer is not allowed to import ethogram.train" in result.stdout
    assert "ethogram.flow is not allowed to import ethogram.train" in result.stdout


def test_torch_in_the_project_module_breaks_the_light_modules_contract(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO / "src" / "ethogram", src / "ethogram")
    with open(src / "ethogram" / "project.py", "a") as f:
        f.write("\n\ndef _uses_torch():\n    import torch\n")
    result = _lint_imports(src)
    assert result.returncode != 0
    assert "ethogram.project is not allowed to import torch" in result.stdout
