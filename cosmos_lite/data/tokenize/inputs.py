"""Inputs of a tokenize job: files, folders, and JSONL / CSV manifests with captions and actions."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cosmos_lite.data.io import VIDEO_SUFFIXES

MANIFEST_SUFFIXES = (".jsonl", ".csv")

@dataclass(frozen=True)
class Source:
    """One input video and what a manifest says about it."""

    file: str
    caption: str | None
    actions: list[list[float]] | None  # per source frame


# --------------------------------------------------------------------------- inputs


def resolve_inputs(inputs: list[str | os.PathLike]) -> list[Source]:
    """Files, folders (recursive, by video suffix) and JSONL/CSV manifests, in a fixed order.

    A path the user typed that does not exist is an error; a video a manifest
    names that does not exist is a bad file (recorded, not fatal).
    """
    if not inputs:
        raise ValueError("no inputs given")
    out: list[Source] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or directory")
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in VIDEO_SUFFIXES and f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                raise ValueError(f"{p}: no video files ({', '.join(VIDEO_SUFFIXES)}) in this folder")
            out += [Source(os.path.abspath(f), None, None) for f in found]
        elif p.suffix.lower() in MANIFEST_SUFFIXES:
            out += _read_manifest(p)
        else:
            out.append(Source(os.path.abspath(p), None, None))
    seen: set[str] = set()
    unique = []
    for s in out:  # a file listed twice would be tokenized twice; keep its first listing
        if s.file not in seen:
            seen.add(s.file)
            unique.append(s)
    return unique


_FILE_KEYS = ("file", "path", "video")
_CAPTION_KEYS = ("caption", "text", "prompt")


def _read_manifest(path: Path) -> list[Source]:
    """JSONL rows or CSV records with a file/path/video column, optional caption and actions.

    Relative video paths are relative to the manifest (the ``scenes export``
    manifest works as is). CSV actions are a JSON list of per-frame rows.
    """
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: not valid JSON ({err.msg})") from None
            if not isinstance(rec, dict):
                raise ValueError(f"{path}:{n}: each line must be a JSON object")
            records.append((n, rec))
    else:
        records = [(n, rec) for n, rec in enumerate(csv.DictReader(text.splitlines()), 2)]
    sources = []
    for n, rec in records:
        name = next((rec[k] for k in _FILE_KEYS if rec.get(k)), None)
        if name is None:
            raise ValueError(f"{path}:{n}: no video path (expected a {'/'.join(_FILE_KEYS)} field)")
        caption = next((rec[k] for k in _CAPTION_KEYS if rec.get(k) is not None), None)
        actions = rec.get("actions")
        if isinstance(actions, str):  # CSV cell
            try:
                actions = json.loads(actions) if actions.strip() else None
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: actions must be a JSON list of per-frame rows ({err.msg})") from None
        if actions is not None:
            ok = isinstance(actions, list) and all(isinstance(a, list) and a for a in actions)
            width = {len(a) for a in actions} if ok else set()
            if not ok or len(width) != 1:
                raise ValueError(f"{path}:{n}: actions must be a non-empty [T][A] list with the same A on every frame")
            actions = [[float(v) for v in a] for a in actions]
        file = Path(name) if Path(name).is_absolute() else path.parent / name
        sources.append(Source(os.path.abspath(file), None if caption is None else str(caption), actions))
    if not sources:
        raise ValueError(f"{path}: the manifest lists no videos")
    return sources


# --------------------------------------------------------------------------- the plan
