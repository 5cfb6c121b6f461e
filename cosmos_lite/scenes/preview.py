"""Contact sheets: a grid of frames (rows = scenarios, labelled), written as PNG.

PNG is written with zlib directly (no Pillow): 8-bit RGB, adaptive row filters.
Labels use a built-in 5x7 bitmap font (upper-case letters, digits, a little
punctuation), so the sheet needs nothing beyond numpy.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .render import render
from .spec import Scenario

# 5x7 glyphs, one int per row, bit 4 = leftmost pixel
_FONT = {
    "A": (0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11), "B": (0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E),
    "C": (0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E), "D": (0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C),
    "E": (0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F), "F": (0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10),
    "G": (0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F), "H": (0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11),
    "I": (0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E), "J": (0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C),
    "K": (0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11), "L": (0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F),
    "M": (0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11), "N": (0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11),
    "O": (0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E), "P": (0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10),
    "Q": (0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D), "R": (0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11),
    "S": (0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E), "T": (0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04),
    "U": (0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E), "V": (0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04),
    "W": (0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A), "X": (0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11),
    "Y": (0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04), "Z": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F),
    "0": (0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E), "1": (0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E),
    "2": (0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F), "3": (0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E),
    "4": (0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02), "5": (0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E),
    "6": (0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E), "7": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08),
    "8": (0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E), "9": (0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C),
    " ": (0,) * 7, ".": (0, 0, 0, 0, 0, 0x0C, 0x0C), ",": (0, 0, 0, 0, 0x0C, 0x04, 0x08),
    ":": (0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0), "-": (0, 0, 0, 0x1F, 0, 0, 0), "_": (0, 0, 0, 0, 0, 0, 0x1F),
    "/": (0, 0x01, 0x02, 0x04, 0x08, 0x10, 0), "(": (0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02),
    ")": (0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08), "+": (0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0),
    "|": (0x04,) * 7, "%": (0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03), "=": (0, 0, 0x1F, 0, 0x1F, 0, 0),
}


def text_image(text: str, color=(235, 235, 235)) -> np.ndarray:
    """Render ``text`` (upper-cased) as a uint8 [7, 6 * len, 3] image on black."""
    text = text.upper()
    out = np.zeros((7, 6 * max(len(text), 1), 3), np.uint8)
    for i, ch in enumerate(text):
        rows = _FONT.get(ch, _FONT["-"] if ch not in _FONT else _FONT[ch])
        for r, bits in enumerate(rows):
            for b in range(5):
                if bits & (1 << (4 - b)):
                    out[r, 6 * i + b] = color
    return out


def _filter_rows(x: np.ndarray) -> bytes:
    """PNG row filters, picking per row the one with the smallest sum of absolute values
    (the standard heuristic): smaller files than any single filter."""
    h, n = x.shape
    left = np.zeros_like(x)
    left[:, 3:] = x[:, :-3]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    ul = np.zeros_like(x)
    ul[1:, 3:] = x[:-1, :-3]
    p = left + up - ul
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - ul)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, ul))
    cands = np.stack([x, x - left, x - up, x - (left + up) // 2, x - paeth]) & 0xFF  # filter types 0..4
    signed = np.where(cands > 127, 256 - cands, cands).sum(axis=2)
    best = signed.argmin(axis=0)
    rows = cands[best, np.arange(h)].astype(np.uint8)
    return np.concatenate([best.astype(np.uint8)[:, None], rows], axis=1).tobytes()


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write uint8 [H, W, 3] as PNG (atomically)."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"write_png needs uint8 [H, W, 3], got {img.shape}")
    h, w = img.shape[:2]
    raw = _filter_rows(img.reshape(h, w * 3).astype(np.int16))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(png)
    os.replace(tmp, path)
    return path


def _label(sc: Scenario) -> str:
    cond = " ".join(sc.conditions)
    if sc.weather != "clear":
        cond += f" {int(round(sc.intensity * 100))}%"
    ev = sc.event.kind.replace("_", " ")
    if sc.event.occluded:
        ev += " (occluded)"
    return f"{cond} | {ev} | {sc.road.setting} {sc.road.layout}"


def contact_sheet(scenarios: list[Scenario], size: tuple[int, int] = (96, 144), columns: int = 4,
                  frames: int = 40, fps: float = 10.0) -> np.ndarray:
    """Rows = scenarios (label strip above), columns = frames from just before the event to the end."""
    h, w = size
    pad = 2
    rows = []
    for sc in scenarios:
        clip = render(sc, frames, size, fps)
        start = max(int(sc.event.onset * fps) - 4, 0) if sc.event.kind != "none" else 0
        picks = np.linspace(start, frames - 1, columns).round().astype(int)
        strip = np.full((h + 11, columns * (w + pad) - pad, 3), 16, np.uint8)
        label = text_image(_label(sc))[:, : strip.shape[1] - 4]
        strip[2:9, 3:3 + label.shape[1]] = label
        for c, k in enumerate(picks):
            strip[11:, c * (w + pad):c * (w + pad) + w] = clip.frames[k]
        rows.append(strip)
    sheet = np.concatenate([np.pad(r, ((0, pad), (0, 0), (0, 0)), constant_values=16) for r in rows])
    return sheet[:-pad]


# (weather, lighting) per preview row: every condition, and some combinations
_PREVIEW_LOOKS = (("clear", "day"), ("rain", "day"), ("fog", "day"), ("snow", "day"), ("clear", "night"),
                  ("clear", "dusk"), ("rain", "night"), ("snow", "dusk"), ("fog", "night"), ("clear", "day"))


def preview_scenarios(n: int, seed: int = 0, split: str | None = "val", duration: float = 4.0) -> list[Scenario]:
    """``n`` sampled scenarios covering the conditions, each with a different event."""
    chosen: list[Scenario] = []
    events: set[str] = set()
    k = seed
    for i in range(n):
        weather, lighting = _PREVIEW_LOOKS[i % len(_PREVIEW_LOOKS)]
        for k in range(k, k + 5000):
            sc = Scenario.sample(k, split=split, duration=duration)
            if (sc.weather, sc.lighting) == (weather, lighting) and sc.event.kind not in events | {"none"}:
                break
        else:  # pragma: no cover - a few thousand draws always find one
            raise ValueError("could not find preview scenarios")
        chosen.append(sc)
        events.add(sc.event.kind)
        if len(events) >= 9:
            events.clear()
        k += 1
    return chosen
