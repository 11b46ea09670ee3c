"""ethogram: classify every frame of a video into user-defined behaviors."""

__version__ = "0.1.0"

__all__ = ["Classifier", "__version__"]


def __getattr__(name: str):
    # Lazy, so that `import ethogram` stays free of torch.
    if name == "Classifier":
        from ethogram.classifier import Classifier

        return Classifier
    raise AttributeError(f"module 'ethogram' has no attribute {name!r}")
