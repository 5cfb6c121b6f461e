"""What a person looks at after a run: a contact sheet PNG and a static HTML gallery.

Both are made from the manifest rows and the clips on disk (never from memory), so a resumed
run draws the same pictures as an unbroken one. The page has no scripts and no external
resources: each clip is a ``<video>`` with a relative ``src``, so the directory opens offline
and can be copied anywhere whole.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from cosmos_lite.pretrained import atomic_write_text
from cosmos_lite.scenes.preview import text_image, write_png

SHEET_COLUMNS = 4  # frames per row, spread over the clip
SHEET_MIN_WIDTH = 420  # px: room for the two label lines even when clips are tiny
_PAD = 2
_BACKGROUND = 16
_STATUS_COLOR = {"accepted": (90, 220, 110), "rejected": (250, 170, 50), "blocked": (250, 80, 70),
                 "failed": (170, 170, 170)}


def verdict_line(row: dict[str, Any]) -> str:
    """``"accepted | integrity pass | event found | actions 0.83"``: the row's outcome in a line."""
    status = row["status"]
    if status == "blocked":
        return f"blocked | {'; '.join(row['blocked_reasons']) or 'by the guardrail'}"
    if status == "failed":
        return f"failed | {row['error']}"
    q = row["qc"]
    act = q["actions"]
    act = f"{act['agreement']:.2f}" if isinstance(act, dict) else act
    integrity = "pass" if q["integrity"]["passed"] else "fail"
    return f"{status} | integrity {integrity} | event {q['event']} | actions {act}"


# --------------------------------------------------------------------------- contact sheet


def write_contact_sheet(path: str | Path, out: str | Path, rows: list[dict[str, Any]]) -> Path:
    """A row per item: its id and verdict above :data:`SHEET_COLUMNS` frames of its clip (a grey
    panel where there is no clip)."""
    from cosmos_lite.data.io import read_video

    h, w = rows[0]["size"]
    width = max(SHEET_COLUMNS * (w + _PAD) - _PAD, SHEET_MIN_WIDTH)
    strips = []
    for row in rows:
        strip = np.full((20 + h, width, 3), _BACKGROUND, np.uint8)
        for y, (text, color) in enumerate(((row["id"], (235, 235, 235)),
                                           (verdict_line(row), _STATUS_COLOR[row["status"]]))):
            label = text_image(text, color)[:, : width - 4]
            strip[2 + 9 * y:9 + 9 * y, 3:3 + label.shape[1]] = label
        if row["file"] is None:
            strip[20:, :w] = 60
        else:
            frames, _ = read_video(Path(out) / row["file"])
            for c, k in enumerate(np.linspace(0, len(frames) - 1, SHEET_COLUMNS).round().astype(int)):
                strip[20:, c * (w + _PAD):c * (w + _PAD) + w] = frames[k]
        strips.append(strip)
    sheet = np.concatenate([np.pad(s, ((0, _PAD), (0, 0), (0, 0)), constant_values=_BACKGROUND) for s in strips])
    return write_png(path, sheet[:-_PAD])


# --------------------------------------------------------------------------- gallery

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; background: #f6f6f6; color: #222; }
.item { display: flex; gap: 1.2em; padding: .8em 0; border-top: 1px solid #ccc; }
video, .noclip { width: 288px; flex: none; background: #111; image-rendering: pixelated; }
.noclip { color: #eee; display: flex; align-items: center; justify-content: center; min-height: 100px; }
h2 { font-size: 15px; margin: 0 0 .3em; } .prompt { font-style: italic; margin: 0 0 .4em; }
.accepted .status { color: #1a7f37; } .rejected .status { color: #b35900; }
.blocked .status { color: #c62828; } .failed .status { color: #666; }
table { border-collapse: collapse; } th { text-align: left; padding-right: 1em; vertical-align: top; }
td { font-family: ui-monospace, monospace; font-size: 12px; }
"""


def _fmt(value: Any) -> str:
    return html.escape(value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def _item_html(row: dict[str, Any]) -> str:
    rid, status = html.escape(row["id"]), row["status"]
    if row["file"] is not None:
        media = f'<video src="{html.escape(row["file"])}" controls loop muted playsinline preload="metadata"></video>'
    else:
        media = f'<div class="noclip">no clip ({html.escape(status)})</div>'
    facts = [("verdict", verdict_line(row)), ("seeds tried", row["seeds"]),
             ("generator", f"{row['generator']} {json.dumps(row['settings'], sort_keys=True)}"),
             ("scene", row["scene"]), ("start state", row["start_state"]), ("guardrail", row["guardrail"]),
             ("qc", row["qc"])]
    if row["error"]:
        facts.append(("error", row["error"]))
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in facts)
    return (f'<div class="item {html.escape(status)}" id="{rid}" data-id="{rid}">{media}<div>'
            f'<h2>{rid} <span class="status">{html.escape(status)}</span></h2>'
            f'<p class="prompt">{html.escape(row["prompt"])}</p><table>{table}</table></div></div>')


def write_gallery(path: str | Path, name: str, rows: list[dict[str, Any]]) -> Path:
    """``index.html``: every item with its clip, prompt, verdicts and scores."""
    counts = {s: sum(r["status"] == s for r in rows) for s in ("accepted", "rejected", "blocked", "failed")}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    page = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(name)}: edge cases</title><style>{_STYLE}</style></head>\n<body>"
            f"<h1>{html.escape(name)}</h1><p>{len(rows)} items: {summary}. Clips in <code>clips/</code>, every "
            f"setting in <code>manifest.jsonl</code>, a picture of all in <code>contact_sheet.png</code>.</p>\n"
            + "\n".join(_item_html(r) for r in rows) + "\n</body></html>\n")
    return atomic_write_text(path, page)
