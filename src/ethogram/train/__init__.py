"""Training of the classifier stages.

- :mod:`ethogram.train.common`: device, seeding, checkpoints and resume, early stopping,
  ``metrics.json`` and training curves, and the generic epoch loop
  :func:`~ethogram.train.common.fit`.
- :mod:`ethogram.train.features`: the hidden two-stream feature extractor
  (:func:`~ethogram.train.features.train_features`); its losses are in
  :mod:`ethogram.train.losses`.
- :mod:`ethogram.train.weight_average`: a moving average of a network's weights.

Nothing heavy is imported here; import the submodules.
"""
