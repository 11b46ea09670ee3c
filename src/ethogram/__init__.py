"""ethogram: classify every frame of a video into user-defined behaviors."""

__version__ = "0.1.0"
