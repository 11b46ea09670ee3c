"""Data for training: preprocessing shared with extraction, clips, splits, augmentation.

- :mod:`ethogram.data.preprocess`: resized frames and normalized flow stacks, on-disk caches.
- :mod:`ethogram.data.clips`: splits by video, clips sampled from labeled frames.
- :mod:`ethogram.data.augment`: flips, rotation, crop, brightness/contrast (flow-aware).
- :mod:`ethogram.data.sequence`: feature windows for the sequence model.

Nothing heavy is imported here; import the submodules.
"""
