"""Inference: feature extraction, sequence inference, post-processing, and the whole chain.

Submodules are imported explicitly (``from ethogram.infer.postprocess import postprocess``) so that
importing this package stays cheap and never pulls in torch.
"""
