"""prefetch: a stage of the preprocessing pipeline in a thread of its own."""

import threading

import pytest

from ethogram.data.prefetch import prefetch


def test_errors_in_the_background_reach_the_caller():
    def items():
        yield 1
        raise ValueError("broken frame")

    got = []
    with pytest.raises(ValueError, match="broken frame"):
        for item in prefetch(items()):
            got.append(item)
    assert got == [1]


def test_a_pipeline_of_prefetches_keeps_order_and_stops_with_its_consumer():
    closed = []

    def decode():
        try:
            yield from range(1000)
        finally:
            closed.append("decode")

    def preprocess(chunks):
        try:
            for x in prefetch(chunks, maxsize=2):
                yield x * 2
        finally:
            closed.append("preprocess")

    assert list(prefetch(preprocess(decode()))) == [2 * x for x in range(1000)]
    assert sorted(closed) == ["decode", "preprocess"]
    closed.clear()
    before = threading.active_count()
    got = []
    stream = prefetch(preprocess(decode()))
    for x in stream:
        got.append(x)
        if len(got) == 5:
            break
    stream.close()  # the consumer stops early: both threads end, both generators are closed
    assert got == [0, 2, 4, 6, 8]
    assert sorted(closed) == ["decode", "preprocess"]
    assert threading.active_count() <= before
