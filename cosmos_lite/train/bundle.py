"""Packaging trained world models the way the package ships them.

    python -c "from cosmos_lite.train.bundle import bundle_world_model as b; \
        b(['cosmos_lite/weights/world', 'runs/ar/final'], 'cosmos_lite/weights/world', \
          {'diffusion': 'default-cv', 'autoregressive': 'default-dv'})"

One world model may hold several generators (``world.json`` lists them in order; the first
is the default); each training run exports a world model with one. :func:`bundle_world_model`
puts the generators of several such directories into one, casts their weights (fp16: half the
bytes; loading casts back) and refers to each tokenizer by its bundled name instead of a copy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping, Sequence

import torch

from cosmos_lite.tokenizer import VideoTokenizer


def same_latent_space(a: VideoTokenizer, b: VideoTokenizer) -> bool:
    """Same config and encoder weights: ids / latents of one mean the same to the other (the
    decoder may differ: ``train tokenizer --finetune-decoder``)."""
    ea, eb = a.encoder.state_dict(), b.encoder.state_dict()
    return a.config == b.config and ea.keys() == eb.keys() and all(torch.equal(ea[k].float(), eb[k].float())
                                                                   for k in ea)


def bundle_world_model(model_dirs: str | Path | Sequence[str | Path], out_dir: str | Path,
                       tokenizers: str | Mapping[str, str], dtype: torch.dtype = torch.float16) -> Path:
    """The generators of ``model_dirs`` (world-model directories, in order) as one world model in
    ``out_dir``, weights cast to ``dtype``, each tokenizer referred to by the bundled name
    ``tokenizers[generator name]`` (one str: the same name for every generator).

    Refuses unless each named tokenizer has the encoder and config its generator was trained
    with (its latent space), two generators share a name, or the text encoders differ."""
    from cosmos_lite.world import WorldModel

    dirs = [model_dirs] if isinstance(model_dirs, (str, Path)) else list(model_dirs)
    if not dirs:
        raise ValueError("no world-model directory to bundle")
    models = [WorldModel.from_pretrained(d, guardrail=None) for d in dirs]
    specs = [spec for wm in models for spec in wm.config.generators]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"generator names repeat across {', '.join(map(str, dirs))}: {names}")
    encoders = {wm.config.text_encoder for wm in models}
    if len(encoders) > 1:
        raise ValueError(f"the world models use different text encoders: {sorted(map(str, encoders))}")
    names_of = tokenizers if isinstance(tokenizers, Mapping) else {n: tokenizers for n in names}
    missing = [n for n in names if n not in names_of]
    if missing:
        raise ValueError(f"no bundled tokenizer named for generator(s) {missing}")
    gens, toks, sources = {}, {}, {}
    for d, wm in zip(dirs, models):
        for spec in wm.config.generators:
            named = VideoTokenizer.from_pretrained(names_of[spec.name])
            if not same_latent_space(wm.tokenizers[spec.name], named):
                raise ValueError(f"{names_of[spec.name]!r} is not the tokenizer {d} was trained with (encoder "
                                 f"weights or config differ: another latent space)")
            gens[spec.name], toks[spec.name] = wm.generator(spec.name), named
            sources[spec.name] = str(names_of[spec.name])
    config = dataclasses.replace(models[0].config, generators=tuple(specs))
    return WorldModel(config, gens, toks, None, tokenizer_sources=sources).save_pretrained(out_dir, dtype=dtype)


__all__ = ["bundle_world_model", "same_latent_space"]
