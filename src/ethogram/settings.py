"""The typed settings of every stage: each setting's type, default, bounds and description.

Pydantic models, one per section (``flow``, ``features``, ``train``, ``sequence``,
``postprocess``, ``cluster``) under :class:`Settings`. Every model forbids unknown fields and
validates assignments. Presets, ``key=value`` overrides, YAML files and the error messages users
see are in :mod:`ethogram.config`, which re-exports these classes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ClusterSettings",
    "FeatureSettings",
    "FlowSettings",
    "PostprocessSettings",
    "SequenceSettings",
    "Settings",
    "TrainSettings",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FlowSettings(_Strict):
    """Optical flow: classical DIS or a learned MotionNet."""

    method: Literal["dis", "motionnet"] = "dis"
    size: int = Field(64, ge=16, description="Flow is computed on frames resized to size x size.")
    dis_preset: Literal["ultrafast", "fast", "medium"] = "ultrafast"
    arch: Literal["TinyMotionNet", "MotionNet", "TinyMotionNet3D"] = "TinyMotionNet"
    stack_frames: int = Field(11, ge=2, description="Frames per MotionNet input stack.")
    model_dir: str | None = Field(None, description="Trained MotionNet model directory.")
    epochs: int = Field(5, ge=1)
    batch_size: int = Field(
        8, ge=1, description="Stacks per MotionNet step, in total over all devices (train.devices)."
    )
    lr: float = Field(3e-4, gt=0, description="MotionNet learning rate (1e-3 trains unsteadily).")
    steps_per_epoch: int = Field(100, ge=1)
    smooth_weight: float = Field(0.05, ge=0)
    ssim_weight: float = Field(0.85, ge=0, le=1)


class FeatureSettings(_Strict):
    """Hidden two-stream feature extractor: a spatial and a motion CNN, fused."""

    arch: str = Field(
        "efficientnet_lite0",
        description="Spatial stream network (see nn.list_models()); EfficientNet-Lite0 starts "
        "from ImageNet weights.",
    )
    flow_arch: str = Field("resnet18", description="Motion stream network.")
    input_size: int = Field(64, ge=16, description="Frames are resized to input_size square.")
    flow_input_size: int | None = Field(
        None,
        ge=16,
        description="Flow fields are resized to this square for the motion stream (None: "
        "input_size). Lets the spatial stream see finer frames than the motion stream.",
    )
    crop: Literal["none", "animal", "auto"] = Field(
        "auto",
        description="Spatial stream input: whole frames ('none'), a window centred on the "
        "animal, found by background subtraction ('animal'; one animal per video), or 'auto': "
        "'animal' if every labeled video looks suitable when training starts, else 'none'.",
    )
    crop_size: float = Field(
        0.4,
        gt=0,
        le=1,
        description="crop='animal': window side, fraction of the frame's longer side.",
    )
    crop_motion: bool = Field(
        True,
        description="crop='animal': the motion stream sees the animal's window too (flow between "
        "two frames cropped at the same place); false: the flow of whole frames. Needs "
        "flow.method=dis (with motionnet, training sets it to false and says so).",
    )
    n_rgb: int = Field(1, ge=1, description="RGB frames stacked into the spatial stream.")
    n_flows: int = Field(10, ge=1, description="Flow fields stacked into the motion stream.")
    fusion: Literal["average", "concatenate", "weighted"] = "average"
    flow_weight: float = Field(0.5, ge=0, le=1, description="Weight of the flow stream (average).")
    pretrained: bool = Field(True, description="Use ImageNet weights where an arch has them.")
    dropout: float = Field(0.25, ge=0, lt=1)
    width: float = Field(1.0, gt=0, description="Channel width multiplier of ResNets.")
    mirror_average: Literal["both", "spatial", "motion", "none"] = Field(
        "spatial",
        description="Predict every frame also from its left-right mirror image and average the "
        "two (validation, extraction, prediction): in both streams ('both'; each CNN runs "
        "twice), only the spatial stream ('spatial': the motion stream, the costlier, runs "
        "once), only the motion stream, or not at all ('none'). true and false (older config "
        "files) mean 'both' and 'none'.",
    )

    @field_validator("mirror_average", mode="before")
    @classmethod
    def _mirror_from_bool(cls, value):
        if isinstance(value, bool):
            return "both" if value else "none"
        return value

    video_norm: Literal["none", "flow", "all"] = Field(
        "flow",
        description="Batch-norm statistics measured on each video itself before its features "
        "are computed (AdaBN): of the motion stream ('flow'), of both streams ('all'), or the "
        "training statistics ('none').",
    )

    @property
    def motion_size(self) -> int:
        """Side of the motion stream's input: ``flow_input_size``, or ``input_size`` if unset."""
        return self.flow_input_size or self.input_size


class TrainSettings(_Strict):
    """Training of the feature extractor (also the defaults other stages fall back to)."""

    epochs: int = Field(6, ge=1)
    stream_epochs: int = Field(2, ge=0, description="Epochs per single stream before fusion.")
    batch_size: int = Field(
        32, ge=1, description="Clips per step, in total over every device (train.devices)."
    )
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    steps_per_epoch: int = Field(150, ge=1, description="Batches per epoch (clips are sampled).")
    patience: int = Field(3, ge=1, description="Early stopping: epochs without improvement.")
    keep: Literal["last", "best"] = Field(
        "last",
        description="Feature stage: keep the last epoch's weights (the cosine schedule's end; no "
        "early stopping) or the epoch with the best validation macro F1, as DeepEthogram.",
    )
    loss: Literal["bce", "focal"] = "bce"
    focal_gamma: float = Field(2.0, ge=0)
    label_smoothing: float = Field(0.05, ge=0, lt=0.5)
    split: tuple[float, float, float] = Field(
        (0.6, 0.2, 0.2),
        description="train.validation=videos: fractions of the labeled videos for training, "
        "validation and test (DeepEthogram's split by video): each between 0 and 1, summing to "
        "1, training above 0.",
    )
    validation: Literal["auto", "videos", "blocks"] = Field(
        "auto",
        description="Where validation frames come from: whole videos ('videos', train.split), "
        "blocks held out inside every labeled video so that every video trains ('blocks'), or "
        "'auto': blocks with fewer than 6 labeled videos, else videos.",
    )
    block_fraction: float = Field(
        0.2, gt=0, le=0.5, description="train.validation=blocks: share of each video held out."
    )
    block_frames: int = Field(
        150, ge=30, description="train.validation=blocks: about this many frames per block."
    )
    balance: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Draw rare behaviors' clips more often: a clip's weight is (1 / frequency of "
        "the rarest behavior in its frame) ** balance (0: every labeled frame alike; 1: every "
        "behavior about equally often; 0.5: the square root). The loss's positive weights follow "
        "the frequencies as drawn.",
    )
    refit: bool = Field(
        False,
        description="After training with validation, train the feature extractor again on every "
        "labeled frame (validation blocks included) with the same schedule, keeping the "
        "thresholds chosen on validation (doubles the feature stage's time).",
    )
    threshold_shrink: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Per-class thresholds (feature and sequence stages) lie this fraction of the "
        "way from 0.5 to the value that maximizes validation F1 (1: the best value, as "
        "DeepEthogram; lower trusts a small validation set less).",
    )
    devices: int = Field(
        1,
        ge=1,
        description="Processes training the flow and feature networks together, one per GPU "
        "(PyTorch DistributedDataParallel; on CPU for tests and CPU clusters). Each takes its "
        "share of every batch; the other stages run in one process.",
    )
    sync_batchnorm: bool = Field(
        True,
        description="With train.devices above 1: batch-norm statistics of the whole batch (every "
        "device's share), so that training is that of one process; false: of each device's "
        "share (less communication, slightly different training).",
    )
    augment: bool = True
    augment_color: float = Field(
        0.3, ge=0, le=1, description="Colour jitter: per-channel gain and desaturation amplitude."
    )
    augment_invert: float = Field(
        0.5, ge=0, le=1, description="Probability of inverting a clip's intensities (coat colour)."
    )
    augment_rotation: float = Field(
        180.0,
        ge=0,
        le=180,
        description="Largest rotation of a training clip, in degrees either way (180: any "
        "heading, as a top-down camera sees; lower it for side views).",
    )

    @field_validator("split")
    @classmethod
    def _split_fractions(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(not 0 <= f <= 1 for f in value) or value[0] <= 0:
            raise ValueError("expected three fractions between 0 and 1, training above 0")
        if abs(sum(value) - 1) > 1e-6:
            raise ValueError(f"expected fractions that sum to 1, they sum to {sum(value):g}")
        return value


class SequenceSettings(_Strict):
    """Temporal Gaussian Mixture sequence model over per-frame features."""

    arch: Literal["tgm", "tgmj"] = "tgmj"
    normalize: Literal["video", "train"] = Field(
        "video",
        description="Standardize each input over its own video ('video': removes the offsets "
        "between videos of different animals and lighting) or with the training videos' "
        "statistics ('train', as DeepEthogram; for short clips).",
    )
    spatial_weight: float = Field(
        0.25,
        gt=0,
        le=1,
        description="Weight of the spatial (single-frame) features beside the flow features in "
        "the sequence model's input, after standardization. Below 1 the model leans on motion: "
        "the spatial stream, fine-tuned on a few videos, remembers their animals' postures, and "
        "a posture seen rarely in training (a curled animal grooming its flank) is read as the "
        "behavior it usually goes with (turning). 1: as DeepEthogram.",
    )
    window: int = Field(180, ge=8, description="Frames per training window.")
    n_filters: int = Field(8, ge=1, description="Gaussian filters per TGM layer.")
    filter_length: int = Field(15, ge=3, description="Temporal length of each TGM filter.")
    num_layers: int = Field(3, ge=1)
    hidden: int = Field(64, ge=4, description="Channels after the input projection.")
    dropout: float = Field(0.3, ge=0, lt=1)
    members: int = Field(
        3,
        ge=1,
        description="Models trained side by side from different random starts, their logits "
        "averaged (one model's result on new videos depends on its random start).",
    )
    epochs: int = Field(30, ge=1)
    steps_per_epoch: int = Field(
        10, ge=1, description="Minimum batches per epoch (windows from several shifted grids)."
    )
    batch_size: int = Field(16, ge=1)
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(1e-3, ge=0)
    patience: int = Field(8, ge=1)
    refit: bool = Field(
        False,
        description="After training with validation, train the sequence model again on every "
        "labeled frame for as many epochs as validation chose, keeping its thresholds.",
    )


class PostprocessSettings(_Strict):
    """Turning probabilities into an ethogram."""

    min_bout: Literal["auto"] | int | dict[str, int] = Field(
        "auto",
        description="Minimum bout length in frames: 'auto' (from labels), int, or per behavior.",
    )
    min_bout_percentile: float = Field(
        5.0, ge=0, le=100, description="'auto' min_bout: this percentile of labeled bout lengths."
    )
    min_bout_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="'auto' min_bout: this fraction of the percentile (predicted bouts come out "
        "shorter than labeled ones; 1 is DeepEthogram's rule).",
    )
    exclusive: Literal["auto"] | bool = Field(
        "auto",
        description="At most one behavior per frame (the most probable one above its "
        "threshold): true, false, or 'auto' (true when no labeled frame has two behaviors).",
    )


class ClusterSettings(_Strict):
    """``ethogram predict --executor slurm|local``: how prediction jobs are submitted (submitit)."""

    partition: str | None = Field(
        None, description="SLURM partition (None: the cluster's default partition)."
    )
    time_min: int = Field(
        240, ge=1, description="Time limit of each job in minutes (SLURM --time; local too)."
    )
    gpus: int = Field(0, ge=0, description="GPUs per job (0: CPU only).")
    cpus: int = Field(2, ge=1, description="CPU cores per job (SLURM --cpus-per-task).")
    mem_gb: float = Field(8.0, gt=0, description="Memory per job in GB (SLURM --mem).")
    jobs_at_once: int = Field(
        4,
        ge=1,
        description="Jobs running at once (--jobs-at-once); the videos are split into "
        "this many jobs.",
    )
    extra_sbatch: list[str] = Field(
        default_factory=list,
        description="Extra #SBATCH lines, each 'key=value' or 'key' (e.g. 'account=lab', "
        "'qos=long', 'exclusive'), passed as --key=value.",
    )

    @field_validator("extra_sbatch")
    @classmethod
    def _sbatch_lines(cls, value: list[str]) -> list[str]:
        for line in value:
            key = line.removeprefix("#SBATCH").strip().removeprefix("--").split("=", 1)[0]
            if not key or not all(c.isalnum() or c in "-_" for c in key):
                raise ValueError(
                    f"expected sbatch options such as 'account=lab' or 'exclusive', got {line!r}"
                )
        return value


class Settings(_Strict):
    """All settings of a project run."""

    preset: str = "fast"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    runtime: Literal["torch", "onnx"] = Field(
        "torch",
        description="What runs the feature extractor when predicting: torch, or onnx "
        "(onnxruntime on the CPU, faster; pip install 'ethogram[onnx]'; see docs/cluster.md).",
    )
    seed: int = 0
    flow: FlowSettings = FlowSettings()
    features: FeatureSettings = FeatureSettings()
    train: TrainSettings = TrainSettings()
    sequence: SequenceSettings = SequenceSettings()
    postprocess: PostprocessSettings = PostprocessSettings()
    cluster: ClusterSettings = ClusterSettings()
