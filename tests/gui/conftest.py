"""GUI tests run offscreen (no display needed) and skip cleanly without the ``gui`` extra."""

from __future__ import annotations

import importlib.util
import os

# Before any QApplication exists: Qt picks its platform plugin when the application is created.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# pytest.importorskip at a conftest's top level is an error, not a skip; so without PySide6 this
# folder is not collected, and each test module also starts with pytest.importorskip("PySide6").
if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("pytestqt") is None:
    collect_ignore_glob = ["test_*.py"]
