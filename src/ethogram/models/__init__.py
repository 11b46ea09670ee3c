"""The model folder: what a trained model leaves on disk, and the network built from it.

Every stage (MotionNet flow, feature extractor, sequence model) writes one folder,
``PROJECT/models/<YYMMDD_HHMMSS>_<stage>_<tag>/``. Training writes it and inference reads it;
both use this package, so neither imports the other:

- :mod:`ethogram.models.folder`: the file names, ``metrics.json``, a folder's stage, and finding
  a project's model folders by name or as its newest (no torch).
- :mod:`ethogram.models.checkpoint`: saving and safely loading ``checkpoint.pt`` / ``best.pt``
  (``torch.load(weights_only=True)``), and filling a network with saved weights.
- :mod:`ethogram.models.device`: the torch device for a ``device`` setting.
- :mod:`ethogram.models.build`: the feature extractor and the sequence model that a saved
  ``config.yaml`` describes.

Nothing is imported here; import the submodules.
"""
