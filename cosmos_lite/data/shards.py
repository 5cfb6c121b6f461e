"""Token shards on disk: the atomic shard writer and the ``TokenShards`` dataset.

Layout of a ``cosmos-lite tokenize`` output directory::

    DIR/tokenize.json                      job identity: tokenizer config + weights hash, options
    DIR/plan.json                          the fixed work list: videos, frame counts, clip starts
    DIR/shards/shard-00000.safetensors     one stacked tensor per shard + its manifest rows
    DIR/manifest.jsonl                     one row per clip, rebuilt from the shard headers
    DIR/errors.jsonl                       one row per bad input file

A shard holds ``latents`` ``[N, C, 1 + k, h, w]`` (bf16 / fp16 / fp32) or
``ids`` ``[N, 1 + k, h, w]`` (uint16 when the vocabulary fits, else int32).
Its manifest rows and decode errors live in the safetensors header metadata,
so a shard and its rows are committed by one atomic rename: a shard file that
exists is complete, and the manifest can always be rebuilt from the shards.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from cosmos_lite.pretrained import atomic_write

SHARD_DIR = "shards"
MANIFEST = "manifest.jsonl"
ERRORS = "errors.jsonl"
JOB_FILE = "tokenize.json"
PLAN_FILE = "plan.json"
LATENT_KEY = "latents"
IDS_KEY = "ids"

STORAGE_DTYPES: dict[str, torch.dtype] = {
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
    "float32": torch.float32,
}


def shard_name(k: int) -> str:
    return f"shard-{k:05d}.safetensors"


def ids_dtype(vocab_size: int) -> torch.dtype:
    """uint16 halves the shard size whenever every id fits in it."""
    return torch.uint16 if vocab_size <= 65536 else torch.int32


def write_shard(path: Path, key: str, tensor: torch.Tensor, rows: list[dict], errors: list[dict]) -> None:
    """Write one shard atomically (temp file in the same directory, fsync, rename)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": "cosmos-lite-shard/1", "rows": json.dumps(rows), "errors": json.dumps(errors)}
    atomic_write(path, lambda tmp: save_file({key: tensor.contiguous()}, str(tmp), metadata=meta))


def read_shard_meta(path: Path) -> tuple[list[dict], list[dict]]:
    """(manifest rows, decode errors) from a shard header, without touching the tensor data."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != "cosmos-lite-shard/1":
        raise ValueError(f"{path}: not a cosmos-lite token shard (header format {meta.get('format')!r})")
    return json.loads(meta["rows"]), json.loads(meta["errors"])


def remove_stale_temps(shard_dir: Path) -> int:
    """Delete temp files a killed run left behind; call only while no writer runs."""
    n = 0
    if shard_dir.is_dir():
        for p in shard_dir.glob(".shard-*.tmp-*"):
            p.unlink(missing_ok=True)
            n += 1
    return n


class TokenShards(torch.utils.data.Dataset):
    """Clips of a ``cosmos-lite tokenize`` directory, read one at a time.

    ``ds[i]`` is a dict with ``latents`` (float ``[C, 1 + k, h, w]``) or ``ids``
    (int64 ``[1 + k, h, w]``), ``caption`` (str, "" when none), ``actions``
    (float32 ``[T, A]``; ``[T, 0]`` when none, so default collation works),
    ``file``, ``start``, ``frames``, ``fps``, ``size`` and ``clip``. Only the
    requested clip's bytes are read (``safe_open`` + ``get_slice`` on a
    memory map); open shard handles are cached per process.
    """

    _MAX_OPEN = 16

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        job_path, manifest = self.root / JOB_FILE, self.root / MANIFEST
        for p in (job_path, manifest):
            if not p.is_file():
                raise FileNotFoundError(f"{self.root}: missing {p.name} (not a finished cosmos-lite tokenize output)")
        self.job: dict[str, Any] = json.loads(job_path.read_text(encoding="utf-8"))
        self.key: str = self.job["storage"]["key"]
        self.rows: list[dict] = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line]
        self._handles: OrderedDict[str, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not -len(self.rows) <= i < len(self.rows):
            raise IndexError(f"clip index {i} out of range for {len(self.rows)} clips")
        row = self.rows[i]
        x = self._open(row["shard"]).get_slice(self.key)[row["index"] : row["index"] + 1][0]
        x = x.to(torch.int64) if self.key == IDS_KEY else x
        actions = row.get("actions")
        act = torch.tensor(actions, dtype=torch.float32) if actions else torch.zeros(row["frames"], 0)
        return {
            self.key: x,
            "caption": row.get("caption") or "",
            "actions": act,
            "file": row["file"],
            "start": row["start"],
            "frames": row["frames"],
            "fps": row["fps"],
            "size": tuple(row["size"]),
            "clip": row["clip"],
        }

    def _open(self, shard: str):
        from safetensors import safe_open

        f = self._handles.get(shard)
        if f is None:
            path = self.root / SHARD_DIR / shard
            if not path.is_file():
                raise FileNotFoundError(f"{path}: shard listed in the manifest is missing")
            f = safe_open(str(path), framework="pt")
            self._handles[shard] = f
            if len(self._handles) > self._MAX_OPEN:
                self._handles.popitem(last=False)
        else:
            self._handles.move_to_end(shard)
        return f

    def __getstate__(self) -> dict[str, Any]:
        # DataLoader workers open their own handles: a memory map does not travel by pickle.
        state = self.__dict__.copy()
        state["_handles"] = OrderedDict()
        return state
