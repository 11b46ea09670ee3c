"""The labeling and review GUI (optional extra ``gui``: PySide6-Essentials + pyqtgraph).

Start it with ``ethogram gui [PROJECT]`` or :func:`ethogram.gui.app.run`. Nothing is imported
here, so ``import ethogram.gui`` stays cheap and Qt-free; import the modules themselves.
"""
