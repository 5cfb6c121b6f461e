"""World-model evaluation against the simulator: :mod:`.measures` (pure), :mod:`.evaluate` (one
function per measure, every generator), :mod:`.report` (sheets, plot, table)."""

from .evaluate import Instruments, WorldEvalSettings, evaluate_world_model
from .report import format_table

__all__ = ["Instruments", "WorldEvalSettings", "evaluate_world_model", "format_table"]
