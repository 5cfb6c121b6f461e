"""World generators over tokenizer latents (diffusion) and token ids (autoregressive).

Every generator implements :class:`~.protocol.WorldGenerator`; ``world.json`` names a
generator by its ``kind``, and :func:`generator_class` maps the kind to its class
(imported on first use, so ``world.json`` can be read without torch models loading).
"""

from __future__ import annotations

import importlib

# kind -> "module:Class"
GENERATOR_KINDS = {
    "diffusion": "cosmos_lite.generators.diffusion.generator:DiffusionGenerator",
    "autoregressive": "cosmos_lite.generators.autoregressive.generator:AutoregressiveGenerator",
}
# kind -> "module:Class" of its settings (no weights are read to check a request)
SETTINGS_CLASSES = {
    "diffusion": "cosmos_lite.generators.diffusion.generator:DiffusionSettings",
    "autoregressive": "cosmos_lite.generators.autoregressive.generator:ARSettings",
}


def _load(table: dict[str, str], kind: str):
    if kind not in table:
        raise ValueError(f"unknown generator kind {kind!r}; known: {', '.join(table)}")
    module, name = table[kind].split(":")
    return getattr(importlib.import_module(module), name)


def generator_class(kind: str):
    """The generator class of ``kind`` ("diffusion", ...)."""
    return _load(GENERATOR_KINDS, kind)


def settings_class(kind: str):
    """The settings dataclass of generator ``kind``."""
    return _load(SETTINGS_CLASSES, kind)
