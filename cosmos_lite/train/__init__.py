"""Training and evaluation machinery: one accelerate loop, model families plug in tasks.

    from cosmos_lite.train import TokenizerRunConfig, TokenizerTask, fit, recipe
    run = recipe("cpu", "default-cv")                      # frozen config
    fit(TokenizerTask(run), run.train, "runs/cv", run.to_dict())

CLI: ``cosmos-lite train tokenizer ...`` and ``cosmos-lite eval tokenizer ...``
(see :mod:`cosmos_lite.train.recipes` for the CPU and GPU recipes).
Submodules import torch; nothing here is imported by ``import cosmos_lite``.
"""

from .config import (
    DataConfig,
    TokenizerLossConfig,
    TokenizerRunConfig,
    TrainConfig,
    parse_size,
)
from .engine import FitResult, StepOutput, Task, fit
from .recipes import recipe
from .tokenizer_task import TokenizerTask

__all__ = [
    "DataConfig",
    "FitResult",
    "StepOutput",
    "Task",
    "TokenizerLossConfig",
    "TokenizerRunConfig",
    "TokenizerTask",
    "TrainConfig",
    "fit",
    "parse_size",
    "recipe",
]
