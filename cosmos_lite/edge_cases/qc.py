"""Quality control of one generated clip: integrity, the prompted event, action following.

The instruments (event reader, inverse dynamics) are arguments (:class:`Instruments`), so a
test can hand in stubs; :func:`load_instruments` finds the bundled ones and records
"unavailable" for any that does not exist (yet) instead of failing.

Every criterion is computed on the generated part of the clip: from the last start frame on
(its transition into the first generated frame included), since the start frames are the
simulator's and would pass for any model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# action following
CURVATURE_MIN = 0.005  # 1/m: frames commanded to turn at least this much are scored (straight ones carry no sign)
ACTION_AGREEMENT_MIN = 0.6  # share of those frames whose predicted curvature has the commanded sign
ACTION_MIN_FRAMES = 2  # fewer scored frames than this: "no steering", not a verdict


@dataclass(frozen=True)
class Instruments:
    """The QC instruments; None = unavailable (the criterion is recorded as "unavailable").

    ``reader.read_clip(frames) -> dict`` and ``event_found(reader_out, event_kind) -> bool``
    judge the prompted event; ``idm.predict(frames) -> [T, 2]`` (acceleration, curvature per
    frame, action t from frame t to t + 1) judges action following."""

    reader: Any = None
    event_found: Callable[[dict, str], bool] | None = None
    idm: Any = None

    def describe(self) -> dict[str, str]:
        """What ``plan.json`` records: a run resumed with other instruments would judge differently."""
        return {"event_reader": "unavailable" if self.reader is None else type(self.reader).__name__,
                "inverse_dynamics": "unavailable" if self.idm is None else type(self.idm).__name__}


def load_instruments() -> Instruments:
    """The bundled scene reader and inverse-dynamics model, each None where it is not there."""
    reader = found = idm = None
    try:
        from cosmos_lite.eval.reader import SceneReader, prompted_event_found

        reader, found = SceneReader.from_pretrained(), prompted_event_found
    except FileNotFoundError:
        pass  # the module exists, its bundled weights do not
    except ModuleNotFoundError as err:
        if err.name != "cosmos_lite.eval.reader":
            raise  # the reader is there but cannot import: a real error, not an absent instrument
    try:
        from cosmos_lite.eval.idm import InverseDynamics

        idm = InverseDynamics.from_pretrained()
    except FileNotFoundError:
        pass
    except ModuleNotFoundError as err:
        if err.name != "cosmos_lite.eval.idm":
            raise
    return Instruments(reader=reader, event_found=found, idm=idm)


def integrity(frames: np.ndarray | None, start: int, guardrail_verdict: str,
              guardrail_reasons: list[str]) -> dict[str, Any]:
    """The guardrail's video_integrity verdict (``pass`` / ``block`` / ``disabled``...) and the
    evaluation's failure rules (blank, black, frozen, flicker: :func:`cosmos_lite.eval.world.measures.
    failure_kinds`, one definition of a broken clip for both) on ``frames[start - 1:]`` (the whole
    clip when it is shorter)."""
    from cosmos_lite.eval.world.measures import failure_kinds

    out: dict[str, Any] = {"guardrail": guardrail_verdict}
    if guardrail_verdict in ("block", "error"):
        out.update(guardrail_reasons=list(guardrail_reasons), problems=["guardrail: " + r for r in guardrail_reasons],
                   passed=False)
        return out
    seg = frames[max(start - 1, 0):] if len(frames) - max(start - 1, 0) >= 2 else frames
    problems = failure_kinds(seg)
    out.update(problems=problems, passed=not problems)
    return out


def event(instruments: Instruments, frames: np.ndarray, event_kind: str) -> str:
    """"found" / "missing" (the reader's verdict on the prompted event) or "unavailable"."""
    if instruments.reader is None or instruments.event_found is None:
        return "unavailable"
    return "found" if instruments.event_found(instruments.reader.read_clip(frames), event_kind) else "missing"


def actions(instruments: Instruments, frames: np.ndarray, commanded: np.ndarray | None, start: int) -> Any:
    """Curvature-sign agreement of the inverse-dynamics model with the commanded actions on the
    generated transitions that turn (|curvature| >= CURVATURE_MIN): ``{"agreement", "frames",
    "passed"}``, or "no actions" / "no steering" / "unavailable"."""
    if commanded is None:
        return "no actions"
    if instruments.idm is None:
        return "unavailable"
    pred = np.asarray(instruments.idm.predict(frames), dtype=np.float64)
    if pred.ndim != 2 or pred.shape[1] != 2:
        raise ValueError(f"inverse dynamics returned shape {list(pred.shape)}, expected [T, 2]")
    t = np.arange(len(commanded))
    # transitions into generated frames (action t moves frame t to t + 1), where both sides have a row
    scored = (t >= max(start - 1, 0)) & (t < min(len(pred), len(frames) - 1)) & \
             (np.abs(commanded[:, 1]) >= CURVATURE_MIN)
    n = int(scored.sum())
    if n < ACTION_MIN_FRAMES:
        return "no steering"
    agree = float(np.mean(np.sign(pred[t[scored], 1]) == np.sign(commanded[scored, 1])))
    return {"agreement": round(agree, 4), "frames": n, "passed": agree >= ACTION_AGREEMENT_MIN}


def judge(instruments: Instruments, frames: np.ndarray | None, event_kind: str, commanded: np.ndarray | None,
          start: int, guardrail_verdict: str, guardrail_reasons: list[str]) -> dict[str, Any]:
    """Every criterion, ``failed`` (the names of those that failed) and ``passed``."""
    qc: dict[str, Any] = {"integrity": integrity(frames, start, guardrail_verdict, guardrail_reasons)}
    if frames is None:  # the guardrail withheld the clip: nothing else to look at
        qc["event"] = qc["actions"] = "no clip"
    else:
        qc["event"] = event(instruments, frames, event_kind)
        qc["actions"] = actions(instruments, frames, commanded, start)
    failed = [k for k in ("integrity", "event", "actions")
              if qc[k] == "missing" or (isinstance(qc[k], dict) and not qc[k]["passed"])]
    qc.update(failed=failed, passed=not failed)
    return qc
