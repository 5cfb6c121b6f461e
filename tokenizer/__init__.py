"""Causal spatiotemporal video tokenizer: continuous latents and FSQ token ids.

    from cosmos_lite.tokenizer import VideoTokenizer, PRESETS
    tok = VideoTokenizer(PRESETS["default-cv"])          # random init
    tok = VideoTokenizer.from_pretrained("path/to/dir")  # config.json + model.safetensors
    z = tok.encode(video)              # [B, 3, T, H, W] in [-1, 1] -> [B, C, 1 + k, H/s, W/s]
    video = tok.decode(z, num_frames=T, size=(H, W))
"""

from .model import (
    PRESETS,
    StreamDecoder,
    StreamEncoder,
    TokenizerConfig,
    VideoTokenizer,
    fsq_indices_to_codes,
    fsq_quantize,
)

TOKENIZER_PRESETS = PRESETS

__all__ = [
    "PRESETS",
    "TOKENIZER_PRESETS",
    "StreamDecoder",
    "StreamEncoder",
    "TokenizerConfig",
    "VideoTokenizer",
    "fsq_indices_to_codes",
    "fsq_quantize",
]
