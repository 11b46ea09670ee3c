"""The HDF5 feature store: reading DeepEthogram's file, writing groups atomically."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from ethogram.errors import EthogramError
from ethogram.io.outputs import (
    delete_group,
    find_group,
    group_info,
    list_groups,
    read_outputs,
    write_group,
)
from tests.conftest import DEG_PROJECT

NAMES = ["background", "groom", "rear"]


def _group(n_frames: int = 10, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "P": rng.random((n_frames, 3)).astype(np.float32),
        "logits": rng.normal(size=(n_frames, 3)).astype(np.float32),
        "thresholds": np.array([0.5, 0.3, 0.4], np.float32),
        "class_names": NAMES,
    }


@pytest.fixture
def deg_outputs(tmp_path):
    src = DEG_PROJECT / "DATA" / "vid0" / "vid0_outputs.h5"
    if not src.exists():
        pytest.skip(f"shared test data not found: {src}")
    dest = tmp_path / "vid0_outputs.h5"
    shutil.copy2(src, dest)
    return dest


def test_deepethogram_outputs_file_reads_groups_and_class_names(deg_outputs):
    assert list_groups(deg_outputs) == ["resnet18", "tgmj"]
    tgmj = read_outputs(deg_outputs, "tgmj")
    assert tgmj["P"].shape == (600, 4)
    assert tgmj["class_names"] == ["background", "still", "fast", "groom"]
    features = read_outputs(deg_outputs, "resnet18", datasets=["spatial_features"])
    assert set(features) == {"spatial_features", "attrs"}
    assert features["spatial_features"].shape == (600, 512)


def test_writing_a_group_keeps_the_other_groups_of_a_deepethogram_file(deg_outputs):
    before = read_outputs(deg_outputs, "resnet18")
    write_group(deg_outputs, "tgm", _group(600), attrs={"model_dir": "/models/x"})
    assert list_groups(deg_outputs) == ["resnet18", "tgm", "tgmj"]
    after = read_outputs(deg_outputs, "resnet18")
    np.testing.assert_array_equal(after["flow_features"], before["flow_features"])
    assert after["class_names"] == before["class_names"]
    assert read_outputs(deg_outputs, "tgm")["attrs"]["model_dir"] == "/models/x"


def test_written_class_names_are_variable_length_strings_as_deepethogram_writes(tmp_path):
    path = write_group(tmp_path / "a_outputs.h5", "tgmj", _group())
    with h5py.File(path, "r") as f:
        assert f["tgmj/class_names"].dtype.kind == "O"
        assert [n.decode() for n in f["tgmj/class_names"][()]] == NAMES


def test_replacing_a_group_overwrites_it_and_does_not_grow_the_file(tmp_path):
    path = tmp_path / "a_outputs.h5"
    write_group(path, "feat", {"spatial_features": np.zeros((2000, 64), np.float32)})
    write_group(path, "tgmj", _group(seed=1))
    size = path.stat().st_size
    for seed in range(3):
        write_group(path, "tgmj", _group(seed=seed + 2))
    np.testing.assert_array_equal(read_outputs(path, "tgmj")["P"], _group(seed=4)["P"])
    assert path.stat().st_size <= size * 1.05
    assert list_groups(path) == ["feat", "tgmj"]


def test_failed_write_leaves_the_old_file_untouched(tmp_path):
    path = write_group(tmp_path / "a_outputs.h5", "tgmj", _group())
    before = path.read_bytes()
    bad = dict(_group(), thresholds=np.zeros(5, np.float32))
    with pytest.raises(EthogramError, match="thresholds has 5 columns"):
        write_group(path, "tgmj", bad)
    with pytest.raises(TypeError):
        write_group(path, "other", {"P": np.array([object()])})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_outputs.h5"]


def test_missing_group_error_names_the_file_and_the_groups_found(tmp_path):
    path = write_group(tmp_path / "a_outputs.h5", "tgmj", _group())
    with pytest.raises(EthogramError, match=r"a_outputs.h5.*no group 'resnet18'.*\['tgmj'\]"):
        read_outputs(path, "resnet18")
    with pytest.raises(EthogramError, match="no dataset 'flow_features'"):
        read_outputs(path, "tgmj", datasets=["flow_features"])


def test_corrupt_or_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(EthogramError, match="not found"):
        read_outputs(tmp_path / "none.h5")
    bad = tmp_path / "bad_outputs.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(EthogramError, match="not a readable HDF5"):
        read_outputs(bad)
    with pytest.raises(EthogramError, match="not a readable HDF5"):
        write_group(bad, "tgmj", _group())
    assert bad.read_bytes() == b"not hdf5 at all"
    assert list_groups(tmp_path / "none.h5") == []


def test_read_all_groups_and_find_group_by_model_dir(tmp_path):
    path = tmp_path / "a_outputs.h5"
    write_group(path, "resnet18", _group(), attrs={"model_dir": str(tmp_path / "m1")})
    write_group(path, "tgmj", _group(), attrs={"model_dir": str(tmp_path / "m2")})
    everything = read_outputs(path)
    assert set(everything) == {"resnet18", "tgmj"}
    assert find_group(path, tmp_path / "m2") == "tgmj"
    assert find_group(path, "/elsewhere/m1") == "resnet18"  # moved project: matched by name
    assert find_group(path, tmp_path / "m3") is None
    assert group_info(path)["tgmj"]["datasets"]["P"] == (10, 3)


def test_delete_group_keeps_the_others(tmp_path):
    path = tmp_path / "a_outputs.h5"
    write_group(path, "a", _group())
    write_group(path, "b", _group())
    assert delete_group(path, "a") is True
    assert delete_group(path, "a") is False
    assert list_groups(path) == ["b"]


def test_file_attributes_are_set_and_kept_by_group_writes(tmp_path):
    from ethogram.io.outputs import read_file_attrs, set_file_attrs

    path = tmp_path / "a_outputs.h5"
    assert read_file_attrs(path) == {}
    write_group(path, "a", _group(), file_attrs={"predictions_model_dir": "/m/1"})
    write_group(path, "b", _group())
    assert read_file_attrs(path) == {"predictions_model_dir": "/m/1"}
    set_file_attrs(path, {"predictions_model_dir": "/m/2", "other": 3})
    assert read_file_attrs(path) == {"predictions_model_dir": "/m/2", "other": 3}
    assert list_groups(path) == ["a", "b"]
