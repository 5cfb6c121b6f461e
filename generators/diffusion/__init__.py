"""Diffusion world model: a video DiT on continuous tokenizer latents (Cosmos-Predict1 diffusion, small).

``model.py`` is the network (it only predicts), ``edm.py`` the EDM preconditioning
and loss, ``sampling.py`` guidance, the diffusers EDM schedulers and long rollouts.
"""

from .edm import (
           SIGMA_DATA,
           Conditioning,
           denoise,
           edm_loss_weight,
           edm_scalings,
           video2world_loss,
)
from .generator import DiffusionGenerator, DiffusionGeneratorConfig, DiffusionSettings
from .model import PRESETS, DiT, DiTConfig
from .sampling import SamplerSettings, guided_denoise, rollout, sample

__all__ = ["SIGMA_DATA", "Conditioning", "denoise", "edm_loss_weight", "edm_scalings", "video2world_loss",
           "PRESETS", "DiT", "DiTConfig", "DiffusionGenerator", "DiffusionGeneratorConfig", "DiffusionSettings", "SamplerSettings", "guided_denoise", "rollout", "sample"]
