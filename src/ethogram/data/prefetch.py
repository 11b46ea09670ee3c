"""Work in a background thread, a few items ahead: :func:`prefetch`.

Video preprocessing is a pipeline (decode, then track, crop and compute flow, then a CNN) whose
stages mostly run in C code that releases the GIL; a stage wrapped in :func:`prefetch` runs in
its own thread, so on two cores consecutive stages overlap.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["prefetch"]

T = TypeVar("T")


def prefetch(items: Iterable[T], maxsize: int = 3) -> Iterator[T]:
    """Iterate ``items`` in a thread of its own, up to ``maxsize`` items ahead of the consumer.

    Decoding (PyAV), resizing and DIS flow (OpenCV) release the GIL, so they overlap with the
    work of the calling thread (a CNN, or the next stage of a pipeline of prefetches). Errors
    in the thread are raised in the caller; if the caller stops early, the thread stops too
    (and closes ``items`` if it is a generator).

    Examples
    --------
    >>> list(prefetch(x * x for x in range(5)))
    [0, 1, 4, 9, 16]
    """
    done = object()
    items = iter(items)
    out: queue.Queue = queue.Queue(maxsize=maxsize)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((None, item)):
                    return
            put((None, done))
        except BaseException as exc:  # handed to the consumer, raised there
            put((exc, None))
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator: its own cleanup (a nested thread) runs here
                close()

    thread = threading.Thread(target=work, name="ethogram-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            error, item = out.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
