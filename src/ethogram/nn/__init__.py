"""Network definitions (plain torch): image backbones by name, two-stream fusion, TGM models.

>>> from ethogram.nn import create_model, HiddenTwoStream, create_sequence_model
>>> spatial = create_model("resnet18", in_chans=3, width=0.5)
>>> motion = create_model("resnet18", in_chans=20, width=0.5)
>>> model = HiddenTwoStream(spatial, motion, num_classes=4)
>>> tgm = create_sequence_model("tgmj", in_features=model.num_features, num_classes=4)
"""

from ethogram.nn.fusion import HiddenTwoStream, TwoStreamOutput, mirror_averaged, mirror_inputs
from ethogram.nn.registry import (
    Backbone,
    channels_last_convs,
    create_model,
    is_3d,
    list_models,
)
from ethogram.nn.tgm import (
    TGM,
    TGMJ,
    SequenceEnsemble,
    TGMBase,
    TGMLayer,
    create_sequence_model,
    receptive_field,
)

__all__ = [
    "TGM",
    "TGMJ",
    "Backbone",
    "HiddenTwoStream",
    "SequenceEnsemble",
    "TGMBase",
    "TGMLayer",
    "TwoStreamOutput",
    "channels_last_convs",
    "create_model",
    "create_sequence_model",
    "is_3d",
    "list_models",
    "mirror_averaged",
    "mirror_inputs",
    "receptive_field",
]
