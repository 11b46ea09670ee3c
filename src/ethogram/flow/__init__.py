"""Optical flow for the motion stream: classical DIS or a learned MotionNet, behind one interface.

Use :mod:`ethogram.flow.api`::

    from ethogram.flow.api import compute_flow, video_flow, load_motionnet

    flow = compute_flow(frames, settings.flow)          # (T-1, 2, size, size) float32
    flow = video_flow("mouse.mp4", settings.flow)       # whole video, streamed in chunks

Flow arrays are float32 ``(T-1, 2, H, W)``: channel 0 is dx, channel 1 is dy, in pixels per frame
at the resolution they were computed at; ``flow[t]`` maps frame ``t`` to frame ``t + 1`` (frame
``t`` at ``x`` is found in frame ``t + 1`` at ``x + flow[t](x)``).

Submodules: ``dis`` (OpenCV DIS flow), ``losses`` (unsupervised MotionNet losses), ``preview``
(color coding), ``api`` (the interface). MotionNet training is :mod:`ethogram.train.flow`. This
package imports nothing heavy at import time.
"""
