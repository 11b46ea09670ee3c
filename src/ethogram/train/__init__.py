"""Training of every stage: MotionNet flow, the feature extractor, the sequence model.

- :mod:`ethogram.train.common`: seeding, resume, early stopping, ``metrics.json`` and training
  curves, and the generic epoch loop :func:`~ethogram.train.common.fit`. The model folder it
  writes (file names, checkpoints, device, model building) is :mod:`ethogram.models`, which
  inference reads too.
- :mod:`ethogram.train.flow`: unsupervised MotionNet training
  (:func:`~ethogram.train.flow.train_flow`).
- :mod:`ethogram.train.features`: the hidden two-stream feature extractor
  (:func:`~ethogram.train.features.train_features`); what each of its epochs does is in
  :mod:`ethogram.train.feature_trainer`, its losses in :mod:`ethogram.train.losses`.
- :mod:`ethogram.train.sequence`: the TGM sequence model on the extracted features.
- :mod:`ethogram.train.pipeline`: every stage in order
  (:func:`~ethogram.train.pipeline.train_project`).
- Several devices (``train.devices``, ``ethogram train --devices N``, or ``torchrun``):
  :mod:`ethogram.train.launch` starts the processes (or joins torchrun's),
  :mod:`ethogram.train.distributed` tells each its rank and shares its batches, and
  :mod:`ethogram.train.batchnorm_sync` normalizes over the whole batch of every process.

Notes go to the module loggers (``ethogram.train.*``); nothing here configures logging.

Nothing heavy is imported here; import the submodules.
"""
