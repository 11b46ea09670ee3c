"""Errors a user can see.

Every error raised on bad user input is an :class:`EthogramError` (or a subclass). The CLI prints
its message on one line and exits with status 2; the traceback appears only under ``--debug``.
Messages name the file, what was expected and what was found.
"""

from __future__ import annotations


class EthogramError(Exception):
    """Base class for all errors caused by user input or user files."""


class ConfigError(EthogramError):
    """A setting is unknown, has the wrong type or an invalid value."""


class ProjectError(EthogramError):
    """A project folder is missing, malformed, or an operation on it is not possible."""


class VideoError(EthogramError):
    """A video file cannot be opened or decoded (missing, empty, corrupt, truncated)."""


class LabelError(EthogramError):
    """A label or prediction file is malformed or does not fit its video."""


class ModelError(EthogramError):
    """A model directory or checkpoint is missing or does not fit the settings."""


class FlowError(EthogramError):
    """Optical flow cannot be computed for the given input."""


class ClusterError(EthogramError):
    """Jobs cannot be submitted or tracked (no submitit, an unknown executor, a bad job folder)."""


class DistributedError(EthogramError):
    """Training on several devices cannot start (devices, port) or one of its processes failed."""
