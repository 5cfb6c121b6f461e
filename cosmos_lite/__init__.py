"""cosmos-lite: a compact Cosmos-style world-model stack.

Public API (resolved lazily so that ``import cosmos_lite`` stays light: no
diffusers, transformers, OpenCV or generator code is imported until used)::

    import cosmos_lite as cl
    wm = cl.WorldModel.from_pretrained()                 # bundled default, offline
    clip = wm.generate("night, heavy rain, a pedestrian steps out", num_frames=33, seed=0)
    clip.save("clip.mp4")
    tok = cl.VideoTokenizer.from_pretrained(path)
    frames, fps = cl.read_video("clip.mp4")
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# OpenMP threads spin a while before they sleep (libgomp's default). Beside one busy process on a
# 2-core box the spinning threads starve the one with work: `benchmarks/contention.py` measured a
# 33-frame clip at 0.57 s idle and 4.24 s with one core busy (7.4x; 16x on a more loaded box), and
# 1.30 s / 1.19 s with sleeping threads: latency then degrades no more than the CPU share lost, at
# the price of idle speed (one thread: 1.00 s / 1.08 s). libgomp reads this when torch loads it, so it
# applies when cosmos_lite is imported before torch (the CLI always is); an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "read_video": "cosmos_lite.data.io",
    "write_video": "cosmos_lite.data.io",
    "VideoWriter": "cosmos_lite.data.io",
    "probe_video": "cosmos_lite.data.io",
    "VideoInfo": "cosmos_lite.data.io",
    "VideoError": "cosmos_lite.data.io",
    "encode_file": "cosmos_lite.data.codec",
    "decode_to_file": "cosmos_lite.data.codec",
    "frames_to_video": "cosmos_lite.data.codec",
    "video_to_frames": "cosmos_lite.data.codec",
    "VideoTokenizer": "cosmos_lite.tokenizer",
    "TokenizerConfig": "cosmos_lite.tokenizer",
    "TOKENIZER_PRESETS": "cosmos_lite.tokenizer",
    "TokenShards": "cosmos_lite.data.shards", "tokenize_videos": "cosmos_lite.data.tokenize",
    "WorldModel": "cosmos_lite.world",
    "WorldConfig": "cosmos_lite.world",
    "GeneratedClip": "cosmos_lite.world",
    "GenerationBlocked": "cosmos_lite.world",
    "SceneReader": "cosmos_lite.eval.reader",
    "InverseDynamics": "cosmos_lite.eval.idm",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cosmos_lite' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
