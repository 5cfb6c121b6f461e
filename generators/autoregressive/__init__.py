"""Autoregressive world model: a transformer over FSQ token ids (Cosmos-Predict1 AR, small).

``model.py`` is the network (it only predicts), ``loss.py`` the MaskGIT / next-token losses
with z-loss, ``sampling.py`` drawing ids, guidance, parallel and raster frame decoding and
long rollouts, ``generator.py`` the generator protocol.
"""

from .generator import ARGeneratorConfig, ARSettings, AutoregressiveGenerator
from .loss import ar_loss, corrupt, token_loss, training_mask
from .model import PRESETS, ARConfig, ARTransformer, KVCache
from .sampling import DecodeSettings, draw, draw_ids, filter_logits, guide, masked_counts, maskgit_frame, rollout

__all__ = [
           "PRESETS",
           "ARConfig",
           "ARGeneratorConfig",
           "ARSettings",
           "ARTransformer",
           "AutoregressiveGenerator",
           "DecodeSettings",
           "KVCache",
           "ar_loss",
           "corrupt",
           "draw",
           "draw_ids",
           "filter_logits",
           "guide",
           "masked_counts",
           "maskgit_frame",
           "rollout",
           "token_loss",
           "training_mask",
]
