"""Guard reports: one verdict per check, serialisable to plain dicts and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    PASS = "pass"
    BLOCK = "block"
    MODIFIED = "modified"    # passed after the guard changed the content (e.g. blurred faces)
    DISABLED = "disabled"    # explicitly turned off, or an optional hook not configured
    ERROR = "error"          # the check raised; treated as a block (fail closed)


_BLOCKING = (Verdict.BLOCK, Verdict.ERROR)


@dataclass(frozen=True)
class CheckResult:
    name: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    modifications: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def blocks(self) -> bool:
        return self.verdict in _BLOCKING

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "verdict": self.verdict.value, "reasons": list(self.reasons),
                "modifications": list(self.modifications), "seconds": round(self.seconds, 6)}


@dataclass(frozen=True)
class GuardReport:
    """The outcome of one guard stage ("request" before generation, "output" after)."""

    stage: str
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return not any(c.blocks for c in self.checks)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it was blocked (reasons of blocking checks only)."""
        return tuple(r for c in self.checks if c.blocks for r in c.reasons)

    @property
    def modifications(self) -> tuple[str, ...]:
        return tuple(m for c in self.checks for m in c.modifications)

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check {name!r} in this report; checks: {[c.name for c in self.checks]}")

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "allowed": self.allowed, "reasons": list(self.reasons),
                "modifications": list(self.modifications),
                "checks": [c.to_dict() for c in self.checks]}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def summary(self) -> str:
        state = "allowed" if self.allowed else "BLOCKED"
        parts = [f"{c.name}={c.verdict.value}" for c in self.checks]
        return f"{self.stage}: {state} ({', '.join(parts)})"
