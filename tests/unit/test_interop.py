"""Importing labels into a project and exporting them: matching, merging, all or nothing."""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.errors import EthogramError, LabelError, ProjectError
from ethogram.interop import export_project, import_labels, match_video
from tests.conftest import snapshot
from tests.interop_support import DATA, frames_of, make_project, random_labels


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


def test_boris_media_path_is_matched_to_the_video_ignoring_case(project):
    (result,) = import_labels(project, [DATA / "boris_tabular_v9.csv"], subject="mouse1")
    assert result.video == "mouse1"
    values = project.read_labels("mouse1").values
    assert frames_of(values, "groom") == list(range(3, 15))
    assert frames_of(values, "sniff") == [24]
    assert (values[:, 0] == 1).sum() == 60 - 12 - 15 - 1


def test_several_subjects_without_subject_is_an_error_listing_them(project):
    before = snapshot(project.root)
    with pytest.raises(LabelError, match=r"several subjects \['mouse1', 'mouse2'\]; choose one"):
        import_labels(project, [DATA / "boris_tabular_v9.csv"])
    assert snapshot(project.root) == before


def test_an_unknown_subject_lists_the_subjects_of_the_file(project):
    with pytest.raises(
        LabelError, match=r"no subject 'mouse9'; the file has \['mouse1', 'mouse2'\]"
    ):
        import_labels(project, [DATA / "boris_tabular_v9.csv"], subject="mouse9")


def test_a_media_name_matching_no_video_lists_the_candidates(tmp_path):
    project = make_project(tmp_path, videos=("cage_a", "cage_b"))
    with pytest.raises(ProjectError, match=r"'/data/videos/mouse2.mp4'.*\['cage_a', 'cage_b'\]"):
        import_labels(project, [DATA / "boris_tabular_v7.tsv"])
    (result,) = import_labels(project, [DATA / "boris_tabular_v7.tsv"], video="cage_b")
    assert result.video == "cage_b"


def test_match_video_prefers_the_exact_stem_over_case_folding():
    assert match_video(["Mouse1", "mouse1"], "x/mouse1.mp4", "f") == "mouse1"
    assert match_video(["Mouse1"], "C:\\videos\\MOUSE1.avi", "f") == "Mouse1"
    with pytest.raises(ProjectError, match="several project videos"):
        match_video(["Mouse1", "MOUSE1"], "mouse1.mp4", "f")


def test_merge_keeps_behaviors_the_file_does_not_name(project):
    old = random_labels(seed=1)
    project.write_labels("mouse2", old)
    path = project.root.parent / "groom_only.tsv"
    lines = (DATA / "boris_aggregated_v8.tsv").read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1])  # header and the groom bout
    (result,) = import_labels(project, [path])
    assert result.behaviors == ["groom"] and result.absent == []
    new = project.read_labels("mouse2").values
    np.testing.assert_array_equal(new[:, 2:], old[:, 2:])
    assert frames_of(new, "groom") == list(range(3, 15))
    assert result.backup is not None and result.backup.is_file()


def test_replace_drops_the_old_labels_and_marks_other_behaviors_absent(project):
    project.write_labels("mouse2", random_labels(seed=1))
    path = project.root.parent / "groom_only.tsv"
    lines = (DATA / "boris_aggregated_v8.tsv").read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1])
    (result,) = import_labels(project, [path], mode="replace")
    assert result.absent == ["rear", "sniff"]
    new = project.read_labels("mouse2").values
    assert frames_of(new, "rear") == [] and frames_of(new, "sniff") == []
    assert (new >= 0).all()


def test_a_bad_second_file_imports_nothing_from_the_first(project, tmp_path):
    bad = tmp_path / "bad.csv"
    text = (DATA / "boris_tabular_v9.csv").read_text()
    bad.write_text(text.replace("0.500,C:", "half,C:", 1))
    before = snapshot(project.root)
    with pytest.raises(LabelError, match=r"bad.csv, row 3, column 'Time'"):
        import_labels(project, [DATA / "boris_tabular_v7.tsv", bad], subject=None)
    assert snapshot(project.root) == before


def test_an_event_past_the_end_of_the_video_names_its_row(project, tmp_path):
    late = tmp_path / "mouse1.tsv"
    text = (DATA / "boris_aggregated_v9.tsv").read_text()
    late.write_text(text.replace("\t1.000\t1.500\t", "\t3.000\t3.500\t", 1))
    with pytest.raises(LabelError, match=r"row 3: 'rear' at 3 s is past the end of the video"):
        import_labels(project, [late])


def test_a_behavior_the_project_lacks_is_an_error_or_skipped(project, tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text((DATA / "boris_aggregated_v9.tsv").read_text().replace("\trear\t", "\tdig\t"))
    with pytest.raises(LabelError, match=r"behavior\(s\) \['dig'\] are not in the project"):
        import_labels(project, [path])
    (result,) = import_labels(project, [path], unknown="skip")
    assert result.skipped_behaviors == ["dig"]
    assert frames_of(project.read_labels("mouse1").values, "rear") == []


def test_dry_run_reports_and_writes_nothing(project):
    before = snapshot(project.root)
    (result,) = import_labels(project, [DATA / "boris_aggregated_v9.tsv"], dry_run=True)
    assert result.labeled_frames == 60 and not result.written
    assert snapshot(project.root) == before


def test_export_writes_one_file_per_labeled_video_and_skips_the_rest(project, tmp_path):
    project.write_labels("mouse1", random_labels(seed=2))
    results = export_project(project, "boris", tmp_path / "out")
    assert [(r.video, r.path.name if r.path else r.skipped) for r in results] == [
        ("mouse1", "mouse1_boris.csv"),
        ("mouse2", "no labels"),
    ]


def test_exported_boris_file_imports_back_to_the_same_labels(project, tmp_path):
    values = random_labels(seed=5)
    project.write_labels("mouse1", values)
    (result,) = export_project(project, "boris-aggregated", tmp_path / "out")[:1]
    import_labels(project, [result.path], mode="replace")
    np.testing.assert_array_equal(project.read_labels("mouse1").values, values)


def test_an_unknown_format_name_lists_the_known_ones(project, tmp_path):
    with pytest.raises(EthogramError, match=r"unknown label format 'excel'; expected one of"):
        export_project(project, "excel", tmp_path)


def test_simba_file_is_matched_to_the_video_it_is_named_after(project):
    (result,) = import_labels(project, [DATA / "simba" / "targets_inserted" / "mouse1.csv"])
    assert (result.video, result.format, result.behaviors) == ("mouse1", "simba", ["groom", "rear"])
    assert result.absent == ["sniff"]


def test_bento_channel_is_chosen_with_subject_and_video_with_video(project):
    path = DATA / "bento_two_channels.annot"
    with pytest.raises(LabelError, match=r"several subjects \['Ch1', 'Ch2'\]"):
        import_labels(project, [path])
    with pytest.raises(ProjectError, match="is named after the video 'bento_two_channels'"):
        import_labels(project, [path], subject="Ch2")
    (result,) = import_labels(project, [path], subject="Ch2", video="mouse2")
    assert frames_of(project.read_labels("mouse2").values, "sniff") == [24]
    # the file lists groom and sniff as its annotations: groom is absent in Ch2, rear unknown
    assert result.behaviors == ["groom", "sniff"] and result.absent == ["rear"]


def test_predictions_export_to_simba_carries_the_model_probabilities(project, tmp_path):
    from ethogram.io.labels import write_labels
    from ethogram.io.outputs import PREDICTIONS_ATTR, write_group

    record = project.video("mouse1")
    values = random_labels(seed=9)
    probabilities = np.where(values == 1, 0.8, 0.2).astype(np.float32)
    write_labels(record.predictions_path, values, project.behaviors, backup=False)
    order = [0, 3, 1, 2]  # the outputs file may hold the classes in another order
    names = [project.behaviors[i] for i in order]
    model = str(project.models_dir / "250101_120000_sequence")
    write_group(record.outputs_path, "resnet18", {"P": probabilities * 0, "class_names": names})
    write_group(
        record.outputs_path,
        "tgmj",
        {"P": probabilities[:, order], "class_names": names},
        attrs={"model_dir": model},
        file_attrs={PREDICTIONS_ATTR: model},
    )
    results = export_project(project, "simba", tmp_path / "out", what="predictions")
    assert results[1].skipped == "no predictions"
    import pandas as pd

    frame = pd.read_csv(results[0].path, index_col=0)
    np.testing.assert_allclose(frame["Probability_sniff"], probabilities[:, 3])
    np.testing.assert_array_equal(frame["rear"], values[:, 2])


def test_export_into_the_project_data_folder_is_refused(project):
    project.write_labels("mouse1", random_labels(seed=2))
    before = snapshot(project.root)
    with pytest.raises(ProjectError, match="inside the project's DATA/ folder"):
        export_project(project, "deepethogram", project.data_dir / "mouse1")
    assert snapshot(project.root) == before
