"""Collection rules for the whole repository (tests/ and the doctests of src/ethogram)."""

import importlib.util

# Without the `gui` extra the GUI modules cannot be imported, so their doctests are not collected
# (tests/gui skips itself the same way).
collect_ignore_glob = []
if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("pyqtgraph") is None:
    collect_ignore_glob.append("src/ethogram/gui/*.py")
