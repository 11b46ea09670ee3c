"""Input stacks of the two-stream networks: which frames and flows each frame sees.

The spatial input of frame ``t`` is the ``n_rgb`` frames centered on ``t``, the motion input the
``n_flows`` flow fields centered on ``t``; indices past either end of the video repeat the first
or last item (edge padding). :func:`stack_indices` gives those indices for frames held in
memory; :class:`StackAssembler` hands out the same stacks while a video is being decoded, chunk by
chunk, so extraction never holds a whole video.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ethogram.errors import FlowError

__all__ = ["StackAssembler", "stack_indices"]


def stack_indices(centers: np.ndarray | Iterable[int], n: int, total: int) -> np.ndarray:
    """Indices of the ``n`` items centered on each center, edge-padded into ``[0, total)``.

    Parameters
    ----------
    centers
        Frame indices ``(B,)``.
    n
        Items per stack; the stack of ``t`` covers ``t - n // 2 .. t - n // 2 + n - 1``.
    total
        Number of items (frames for RGB, ``T - 1`` flows for flow).

    Returns
    -------
    numpy.ndarray
        int64 ``(B, n)``.
    """
    centers = np.asarray(centers, dtype=np.int64).reshape(-1, 1)
    offsets = np.arange(n, dtype=np.int64) - n // 2
    return np.clip(centers + offsets, 0, max(total - 1, 0))


class StackAssembler:
    """Collect streamed RGB frames and flows; hand out complete input stacks in frame order.

    Frame ``t`` is ready once every frame and flow its stacks need has arrived (or the video has
    ended, when edge padding fills the rest). Consumed items are dropped, so memory stays bounded
    by a chunk plus the stack width.
    """

    def __init__(self, n_rgb: int, n_flows: int):
        self.n_rgb, self.n_flows = n_rgb, n_flows
        self._rgb: list[np.ndarray] = []
        self._flow: list[np.ndarray] = []
        self._rgb_start = 0  # global index of the first kept frame
        self._flow_start = 0
        self.n_rgb_seen = 0
        self.n_flow_seen = 0
        self.next_frame = 0
        self.finished = False

    def add(self, rgb: np.ndarray, flow: np.ndarray) -> None:
        """Append resized frames and normalized flows (either may be empty)."""
        if len(rgb):
            self._rgb.append(rgb)
            self.n_rgb_seen += len(rgb)
        if len(flow):
            self._flow.append(flow)
            self.n_flow_seen += len(flow)

    def finish(self) -> None:
        """Mark the end of the video: the last frames become ready (edge padding)."""
        self.finished = True

    def _ready_until(self) -> int:
        if self.finished:
            return self.n_rgb_seen
        need_rgb_after = self.n_rgb - 1 - self.n_rgb // 2
        need_flow_after = self.n_flows - 1 - self.n_flows // 2
        by_rgb = self.n_rgb_seen - need_rgb_after
        by_flow = self.n_flow_seen - need_flow_after
        return max(0, min(by_rgb, by_flow, self.n_rgb_seen))

    def take(self, max_frames: int | None = None) -> tuple[int, np.ndarray, np.ndarray] | None:
        """Return ``(first_frame, rgb_stacks, flow_stacks)`` of the frames ready now, or None.

        ``rgb_stacks`` is uint8 ``(B, n_rgb, S, S, 3)``, ``flow_stacks`` float16
        ``(B, n_flows, 2, s, s)``.
        """
        stop = self._ready_until()
        if max_frames is not None:
            stop = min(stop, self.next_frame + max_frames)
        if stop <= self.next_frame:
            return None
        if self.finished and self.n_flow_seen < 1:
            raise FlowError("a video needs at least 2 frames for optical flow")
        rgb = np.concatenate(self._rgb) if len(self._rgb) > 1 else self._rgb[0]
        flow = np.concatenate(self._flow) if len(self._flow) > 1 else self._flow[0]
        self._rgb, self._flow = [rgb], [flow]
        centers = np.arange(self.next_frame, stop)
        # when not finished, totals are lower bounds that are never reached by ready frames
        rgb_idx = stack_indices(centers, self.n_rgb, self.n_rgb_seen) - self._rgb_start
        flow_idx = stack_indices(centers, self.n_flows, self.n_flow_seen) - self._flow_start
        rgb_stacks, flow_stacks = rgb[rgb_idx], flow[flow_idx]
        first = self.next_frame
        self.next_frame = stop
        # drop what no later frame needs
        keep_rgb = max(0, min(stop - self.n_rgb // 2, self.n_rgb_seen - 1)) - self._rgb_start
        keep_flow = max(0, min(stop - self.n_flows // 2, self.n_flow_seen - 1)) - self._flow_start
        if keep_rgb > 0:
            self._rgb = [rgb[keep_rgb:]]
            self._rgb_start += keep_rgb
        if keep_flow > 0:
            self._flow = [flow[keep_flow:]]
            self._flow_start += keep_flow
        return first, rgb_stacks, flow_stacks
