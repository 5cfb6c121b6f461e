"""Typed argparse converters shared by every ``cosmos-lite`` command.

Each raises ``argparse.ArgumentTypeError`` so argparse reports the flag and
the problem in one line.
"""

from __future__ import annotations

import argparse


def size_hw(text: str) -> tuple[int, int]:
    """``"128x192"`` -> (128, 192); each side in [1, 8192]."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like HxW (e.g. 128x192), got {text!r}") from None
    if not (1 <= h <= 8192 and 1 <= w <= 8192):
        raise argparse.ArgumentTypeError(f"size {h}x{w} out of range: each side must be in [1, 8192]")
    return h, w


def _number(text: str, kind: type, minimum: float, strict: bool):
    try:
        v = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if not (v > minimum if strict else v >= minimum):
        raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {minimum}, got {text}")
    return v


def positive_int(text: str) -> int:
    return _number(text, int, 0, strict=True)


def non_negative_int(text: str) -> int:
    return _number(text, int, 0, strict=False)


def positive_float(text: str) -> float:
    return _number(text, float, 0.0, strict=True)
