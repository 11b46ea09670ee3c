"""Training of every stage: MotionNet flow, the feature extractor, the sequence model.

- :mod:`ethogram.train.common`: seeding, resume, early stopping, ``metrics.json`` and training
  curves, and the generic epoch loop :func:`~ethogram.train.common.fit`. The model folder it
  writes (file names, checkpoints, device, model building) is :mod:`ethogram.models`, which
  inference reads too.
- :mod:`ethogram.train.flow`: unsupervised MotionNet training
  (:func:`~ethogram.train.flow.train_flow`).
- :mod:`ethogram.train.features`: the hidden two-stream feature extractor
  (:func:`~ethogram.train.features.train_features`); its losses are in
  :mod:`ethogram.train.losses`.
- :mod:`ethogram.train.weight_average`: a moving average of a network's weights.

Nothing heavy is imported here; import the submodules.
"""
