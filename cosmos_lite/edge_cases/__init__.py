"""Edge-case clips from a catalog: events x conditions x ego behaviour, generated, checked, resumable.

    cosmos-lite edge-cases --out DIR --n 8              # the built-in catalog, first 8 items
    cosmos-lite edge-cases --out DIR --catalog my.json  # your own

    from cosmos_lite.edge_cases import load_catalog, run_edge_cases
    res = run_edge_cases("DIR", load_catalog("my.json"), model=None, n=8, batch_size=8)

Catalog (JSON; YAML with the same fields where PyYAML is installed)::

    {
      "name": "night-pedestrians",          required: a name for the run (gallery title)
      "generator": null,                    a generator of the model; null = its first
      "settings": {"steps": 24},            that generator's settings fields; {} = its defaults
      "frames": 33,                         clip length; null = the generator's training length
      "seeds_per_item": 1,                  clips (seeds) per scene
      "max_attempts": 3,                    tries per clip before it is recorded as rejected (1-100)
      "seed": 0,                            item i is generated with seed + i
      "items": [                            required, non-empty
        {"event": "pedestrian_crossing",    required: one of cosmos_lite.scenes.EVENTS
         "conditions": ["night, rain", "dusk, fog"],
                                            required: each a weather and/or a lighting
                                            (clear rain fog snow / night dusk), comma-separated;
                                            missing weather = clear, missing lighting = day
         "behaviour": "keep",               ego manoeuvre of the start state: a BEHAVIOURS name
                                            (start and strength drawn per scene) or an object
                                            {"kind": "swerve_left", "start": 1.0, "strength": 0.8}
         "prompt": "{condition}, {event_phrase}",
                                            template; placeholders {condition} (as above),
                                            {event} ("pedestrian crossing"), {event_phrase} (the
                                            simulator's wording for this scene), {caption} (its
                                            whole caption)
         "start_state": false,              true: condition on the scene's first 5 frames and
                                            command its ego actions (a behaviour needs this)
         "count": 1}                        scenes per condition
      ]
    }

Every unknown field, wrong type or value is an error naming its JSON path
(``my.json: items[1].conditions[0]: unknown condition word 'nite' ...``). An entry makes
``len(conditions) x count x seeds_per_item`` items. Scenes come from the simulator's test
split: for each (event, weather, lighting) the matching scenes in seed order (events placed
in view, ``salient``), rendered at the generator's size and fps when a start state is asked
for. The built-in catalog (``--print-catalog``) is every event but "none" under all 12
weather x lighting pairs, with start states: 108 items. Items are taken in spread order
(round-robin over entries, conditions staggered per entry; see :mod:`.plan`), so ``--n 8``
covers 8 events and 8 conditions.

Quality control (:mod:`.qc`, thresholds are its constants), on the generated frames:

- integrity: the guardrail's ``video_integrity`` verdict, and the clip is not blank, black,
  frozen or flickering by the world-model evaluation's rules
  (``cosmos_lite.eval.world.measures.failure_kinds``, thresholds relative to the clip's contrast);
- event: the bundled scene reader finds the prompted event (else "missing"); "unavailable"
  when there is no bundled reader;
- actions: with a start state, the inverse-dynamics model's curvature has the commanded
  sign on at least ``ACTION_AGREEMENT_MIN`` of the generated transitions that turn
  (|curvature| >= ``CURVATURE_MIN``); "unavailable" without the model, "no steering" when
  fewer than ``ACTION_MIN_FRAMES`` transitions turn.

A clip failing any criterion is generated again with seed ``seed + attempt x 1000000007``,
up to ``max_attempts``, then recorded as rejected with its scores. The guardrail blocking
the request or the clip (other than for integrity) is final: status "blocked". A request
the model cannot take (e.g. start-state actions outside its trained range) is "failed".
Neither stops the run.

Output directory::

    plan.json              the fixed plan (catalog, --n, batch size, model fingerprint, guardrail,
                           instruments, items)
    items/<id>.json        one result per item, written atomically after its clip
    clips/<id>.mp4         accepted and rejected clips
    manifest.jsonl         all results in plan order: id, prompt, seeds tried, generator and
                           settings, scene and start state (behaviour, actions summary),
                           guardrail verdicts, QC scores per attempt, status, file and the
                           sha256 of its frames
    contact_sheet.png      a row per item: a few frames under its verdict
    index.html             the gallery (offline, relative links)

Killed at any point, the same command resumes and ends with the manifest of an unbroken
run, byte for byte: the same frames (``frames_sha256``), verdicts and scores. The .mp4 bytes
of a clip may still differ from another run's: the H.264 encoder behind
:func:`cosmos_lite.data.io.write_video` does not always write equal frames to equal bytes
(frame widths that are not a multiple of 128, e.g. 48 or 96). The same directory with
another catalog, ``--n``, ``--batch-size`` (a batch moves pixels by a grey level now and
then), model or guardrail setting is refused with the differences listed.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module (resolved on first use: `cosmos-lite --help` reads this docstring cheaply)
_LAZY = {
    "Catalog": "cosmos_lite.edge_cases.catalog",
    "CatalogEntry": "cosmos_lite.edge_cases.catalog",
    "default_catalog": "cosmos_lite.edge_cases.catalog",
    "load_catalog": "cosmos_lite.edge_cases.catalog",
    "parse_catalog": "cosmos_lite.edge_cases.catalog",
    "Plan": "cosmos_lite.edge_cases.plan",
    "PlanItem": "cosmos_lite.edge_cases.plan",
    "build_plan": "cosmos_lite.edge_cases.plan",
    "Instruments": "cosmos_lite.edge_cases.qc",
    "load_instruments": "cosmos_lite.edge_cases.qc",
    "RunResult": "cosmos_lite.edge_cases.run",
    "run_edge_cases": "cosmos_lite.edge_cases.run",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cosmos_lite.edge_cases' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
