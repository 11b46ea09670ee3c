"""Labeling and review GUI (the optional ``gui`` extra: PySide6-Essentials + pyqtgraph).

Nothing is imported here, so ``import ethogram.gui`` stays cheap and Qt-free; import the widget
modules themselves.
"""
