"""The world model: generators + their tokenizers + a text encoder, gated by the guardrail.

    wm = WorldModel.from_pretrained()          # bundled default, offline
    wm.generators                              # ("diffusion",)
    clip = wm.generate("night, heavy rain, a pedestrian steps out", num_frames=33, seed=0)
    clip.save("clip.mp4")
    results = wm.generate_many([dict(prompt="...", seed=0), dict(prompt="...", seed=1)])

``WorldModel`` owns what every generator shares: input checks (before any model
runs), the guardrail before and after, tokenizer encode / decode, batching,
timings and the report, and the model-directory format. The generators work on
latents or token ids behind :class:`cosmos_lite.generators.protocol.WorldGenerator`.

A model directory (:meth:`WorldModel.save_pretrained`)::

    world.json            WorldConfig: the generators in order (the first is the default), text encoder
    <name>/               one directory per generator (its own files, e.g. DiT + generator.json)
    <name>/tokenizer/     the generator's tokenizer, unless world.json names a bundled one

Every clip passes the guardrail before and after generation; without one,
``guardrail=None`` must be said explicitly and is logged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

log = logging.getLogger("cosmos_lite.world")

_DEFAULT = object()  # "build the default guardrail"
WORLD_FILE = "world.json"
FORMAT = 2
MAX_FRAMES = 4096  # per request; longer rollouts are a loop over generate calls
MIN_VIDEO_SIDE = 16  # condition frames smaller than this carry no picture worth continuing


def bundled_world_model_dir() -> Path:
    """Where the bundled default world model ships (``cosmos_lite/weights/world``)."""
    return Path(__file__).resolve().parent / "weights" / "world"


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class GeneratorSpec:
    """One generator of a world model: its kind, tokenizer and the clip geometry it was trained on."""

    name: str  # directory inside the model directory and the name callers pick it by
    kind: str  # a key of cosmos_lite.generators.GENERATOR_KINDS ("diffusion", ...)
    tokenizer: str  # a path relative to the model directory, or a bundled tokenizer name
    size: tuple[int, int]  # (H, W) of generated video
    fps: float
    frames: int  # training clip length in video frames (1 + k*t): the default num_frames
    action_dim: int = 2  # per-frame ego action width (accel m/s^2, curvature 1/m); 0 = no actions
    # per action channel, the (low, high) range the model was trained on; requests outside are refused
    action_range: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", tuple(int(v) for v in self.size))
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"generator name must be a plain directory name, got {self.name!r}")
        if len(self.size) != 2 or min(self.size) < 1 or not self.fps > 0 or self.frames < 2 or self.action_dim < 0:
            raise ValueError(f"invalid generator spec: {self}")
        if self.action_range is not None:
            rng = tuple((float(lo), float(hi)) for lo, hi in self.action_range)
            if len(rng) != self.action_dim or any(not lo < hi for lo, hi in rng):
                raise ValueError(f"action_range must give (low < high) for each of {self.action_dim} action "
                                 f"channels, got {self.action_range!r}")
            object.__setattr__(self, "action_range", rng)


@dataclass(frozen=True)
class WorldConfig:
    """``world.json``: the generators in order (the first is the default) and the text encoder."""

    generators: tuple[GeneratorSpec, ...]
    text_encoder: str | None = None  # transformers encoder name or path; None = bundled all-MiniLM-L6-v2

    def __post_init__(self) -> None:
        gens = tuple(g if isinstance(g, GeneratorSpec) else GeneratorSpec(**g) for g in self.generators)
        if not gens:
            raise ValueError("a world model needs at least one generator")
        names = [g.name for g in gens]
        if len(set(names)) != len(names):
            raise ValueError(f"generator names must be unique, got {names}")
        object.__setattr__(self, "generators", gens)

    def spec(self, name: str | None) -> GeneratorSpec:
        """The generator called ``name`` (None = the first), or a clear error listing the choices."""
        if name is None:
            return self.generators[0]
        for g in self.generators:
            if g.name == name:
                return g
        raise ValueError(f"invalid generator {name!r}: this world model has {', '.join(self.names)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.generators)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WorldConfig":
        d = dict(d)
        fmt = d.pop("format", None)
        if fmt != FORMAT:
            raise ValueError(f"{WORLD_FILE} format {fmt!r} is not {FORMAT} (a single-DiT directory from an older "
                             "cosmos-lite: re-export it with WorldModel.save_pretrained)")
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown {WORLD_FILE} fields: {', '.join(unknown)}")
        gens = []
        for g in d.get("generators", []):
            bad = sorted(set(g) - {f.name for f in fields(GeneratorSpec)})
            if bad:
                raise ValueError(f"unknown generator fields in {WORLD_FILE}: {', '.join(bad)}")
            gens.append(GeneratorSpec(**g))
        return cls(generators=tuple(gens), text_encoder=d.get("text_encoder"))

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "WorldConfig":
        """``world.json`` of a model directory (None = the bundled one), without loading any model."""
        d = bundled_world_model_dir() if directory is None else Path(directory)
        path = d / WORLD_FILE
        if not path.is_file():
            hint = " (this install has no bundled world model)" if directory is None else ""
            raise FileNotFoundError(f"{path} not found{hint}: pass a directory written by "
                                    "WorldModel.save_pretrained or `cosmos-lite train diffusion` (RUN/final)")
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None


# --------------------------------------------------------------------------- requests and results


@dataclass(frozen=True)
class GenerationRequest:
    """The keyword arguments of :meth:`WorldModel.generate`, checked and normalised."""

    prompt: str
    video: Any = None  # uint8 [T, H, W, 3] array or a video file: the first frames
    actions: Any = None  # [num_frames, A] per-frame ego actions
    num_frames: int | None = None  # None = the generator's training clip length
    seed: int = 0
    generator: str | None = None  # None = the model's first generator
    settings: Any = None  # the generator's settings object; None = its defaults


class GenerationBlocked(RuntimeError):
    """The guardrail refused the request or the generated clip; ``.report`` says why."""

    def __init__(self, stage: str, report: Any):
        self.stage, self.report = stage, report
        super().__init__(f"guardrail blocked the {stage}: {'; '.join(report.reasons) or 'no reason given'}")


@dataclass
class GeneratedClip:
    """One result: ``frames`` (uint8 [T, H, W, 3]; None when ``blocked``), ``fps`` and the ``report``
    (effective settings, guardrail verdicts with reasons, timings)."""

    frames: np.ndarray | None
    fps: float
    report: dict[str, Any] = field(default_factory=dict)
    blocked: bool = False
    guard_report: Any = field(default=None, repr=False)  # the guardrail's report that blocked it

    @property
    def reasons(self) -> list[str]:
        return list(self.report.get("blocked_reasons", []))

    def save(self, path: str | Path) -> Path:
        """Write the clip (mp4 / mkv / avi, atomically)."""
        from cosmos_lite.data.io import write_video

        if self.blocked or self.frames is None:
            raise ValueError(f"nothing to save: the guardrail blocked this clip ({'; '.join(self.reasons)})")
        write_video(path, self.frames, self.fps)
        return Path(path)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def check_request(config: WorldConfig, request: GenerationRequest | Mapping[str, Any]) -> GenerationRequest:
    """``request`` checked against ``config`` alone (no model is loaded): a normalised
    :class:`GenerationRequest`, or a ``ValueError`` / ``TypeError`` / ``FileNotFoundError`` that
    names the problem. Policy (what a prompt or clip may show) stays the guardrail's."""
    from cosmos_lite.generators import settings_class
    from cosmos_lite.guardrail.prompt_guard import join_negatives, split_negative

    if isinstance(request, Mapping):
        unknown = sorted(set(request) - {f.name for f in fields(GenerationRequest)})
        if unknown:
            raise TypeError(f"invalid request: unknown field(s) {', '.join(unknown)}")
        request = GenerationRequest(**request)
    if not isinstance(request, GenerationRequest):
        raise TypeError(f"invalid request: expected a dict or GenerationRequest, got {type(request).__name__}")
    r = request
    if not isinstance(r.prompt, str):
        raise TypeError(f"invalid prompt: must be a str, got {type(r.prompt).__name__}")
    try:
        r.prompt.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("invalid prompt: not valid UTF-8 text (undecodable bytes)") from None
    spec = config.spec(r.generator)
    settings = r.settings
    cls = settings_class(spec.kind)
    if settings is None:
        settings = cls()
    elif not isinstance(settings, cls):
        raise TypeError(f"invalid settings: the {spec.name} generator takes {cls.__name__}, got "
                        f"{type(settings).__name__}")
    neg = getattr(settings, "negative_prompt", "")
    try:
        neg.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("invalid negative prompt: not valid UTF-8 text") from None
    prompt, inline = split_negative(r.prompt)
    if inline:  # "... --neg gore, blurry": the list is what to avoid, so it joins the negative prompt
        if not hasattr(settings, "negative_prompt"):
            raise ValueError(f"invalid prompt: it holds a negative-prompt list ({inline!r}), and the {spec.name} "
                             f"generator takes no negative prompt")
        if not prompt.strip():
            raise ValueError(f"invalid prompt: it is only a negative-prompt list ({inline!r}); say what the clip "
                             f"should show before it")
        settings = dataclasses.replace(settings, negative_prompt=join_negatives(neg, inline))

    num_frames = spec.frames if r.num_frames is None else r.num_frames
    if not _is_int(num_frames) or not 2 <= num_frames <= MAX_FRAMES:
        raise ValueError(f"invalid num_frames: must be an integer in [2, {MAX_FRAMES}] (a clip, not an image), "
                         f"got {num_frames!r}")
    if not _is_int(r.seed) or not 0 <= r.seed < 2**63:
        raise ValueError(f"invalid seed: must be an integer in [0, 2**63), got {r.seed!r}")

    video = r.video
    if video is not None:
        if isinstance(video, (str, Path)):
            if not Path(video).is_file():
                raise FileNotFoundError(f"invalid video: {video}: no such file")
        else:
            video = np.asarray(video)
            if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3 or len(video) == 0:
                raise ValueError(f"invalid video: must be uint8 [T, H, W, 3] with T >= 1, got {video.dtype} "
                                 f"{list(video.shape)}")
            if min(video.shape[1:3]) < MIN_VIDEO_SIDE:
                raise ValueError(f"invalid video: frames are {video.shape[1]}x{video.shape[2]}, need at least "
                                 f"{MIN_VIDEO_SIDE}x{MIN_VIDEO_SIDE}")

    actions = r.actions
    if actions is not None:
        actions = _check_actions(actions, spec, num_frames)
    return dataclasses.replace(r, prompt=prompt, video=video, actions=actions, num_frames=int(num_frames),
                               seed=int(r.seed), generator=spec.name, settings=settings)


def _check_actions(actions: Any, spec: GeneratorSpec, num_frames: int) -> np.ndarray:
    if spec.action_dim == 0:
        raise ValueError(f"invalid actions: the {spec.name} generator takes none")
    try:
        import torch

        if torch.is_tensor(actions):
            actions = actions.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    try:
        a = np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("invalid actions: must be a [T, A] array of numbers (accel m/s^2, curvature 1/m per "
                         "frame); rows of different lengths or non-numbers given") from None
    if a.ndim != 2 or a.shape[1] != spec.action_dim:
        raise ValueError(f"invalid actions: must be [T, {spec.action_dim}] (accel m/s^2, curvature 1/m) per frame, "
                         f"got shape {list(a.shape)}")
    if len(a) != num_frames:
        raise ValueError(f"invalid actions: {len(a)} rows, the clip has {num_frames} frames (one row per frame)")
    if not np.isfinite(a).all():
        raise ValueError("invalid actions: hold NaN or inf")
    if spec.action_range is not None:
        names = ("acceleration", "curvature") if spec.action_dim == 2 else [f"channel {i}" for i in range(spec.action_dim)]
        for i, (lo, hi) in enumerate(spec.action_range):
            bad = (a[:, i] < lo) | (a[:, i] > hi)
            if bad.any():
                t = int(np.argmax(bad))
                raise ValueError(f"invalid actions: {names[i]} {a[t, i]:g} at frame {t} is outside [{lo:g}, {hi:g}], "
                                 f"the range the {spec.name} generator was trained on")
    return a.astype(np.float32)


# --------------------------------------------------------------------------- the world model


class WorldModel:
    """Conditioned rollouts from any generator: text, optional first frames, optional per-frame actions.

    ``generators`` maps each name of ``config`` to an object satisfying
    :class:`~cosmos_lite.generators.protocol.WorldGenerator`, ``tokenizers`` each name to that
    generator's tokenizer. ``tokenizer_sources`` (optional) remembers a bundled tokenizer's name
    so that :meth:`save_pretrained` refers to it instead of copying it.
    """

    def __init__(self, config: WorldConfig, generators: Mapping[str, Any], tokenizers: Mapping[str, Any],
                 guardrail: Any, text_encoder: Any = None, tokenizer_sources: Mapping[str, str] | None = None):
        from cosmos_lite.generators.conditioning import TextEncoder

        if set(generators) != set(config.names) or set(tokenizers) != set(config.names):
            raise ValueError(f"generators {sorted(generators)} and tokenizers {sorted(tokenizers)} must match the "
                             f"config's {list(config.names)}")
        self.config = config
        self.text_encoder = text_encoder or TextEncoder(config.text_encoder)
        for spec in config.generators:
            gen, tok = generators[spec.name], tokenizers[spec.name]
            if tok.config.mode != gen.latents:
                raise ValueError(f"generator {spec.name!r} works on {gen.latents} latents, its tokenizer is "
                                 f"{tok.config.mode}")
            levels = getattr(gen, "fsq_levels", None)  # token-id generators: the vocabulary must be the tokenizer's
            if levels is not None and tuple(levels) != tuple(tok.config.fsq_levels):
                raise ValueError(f"generator {spec.name!r} predicts FSQ levels {tuple(levels)}, its tokenizer has "
                                 f"{tuple(tok.config.fsq_levels)}")
            s = tok.config.spatial_compression
            if spec.size[0] % s or spec.size[1] % s:
                raise ValueError(f"generator {spec.name!r}: size {spec.size} is not a multiple of its tokenizer's "
                                 f"spatial compression {s}")
            if gen.action_dim != spec.action_dim:
                raise ValueError(f"generator {spec.name!r} takes {gen.action_dim} action channels, world.json says "
                                 f"{spec.action_dim}")
            if self.text_encoder.dim != gen.text_dim:
                raise ValueError(f"the text encoder gives {self.text_encoder.dim}-wide embeddings, generator "
                                 f"{spec.name!r} takes {gen.text_dim}")
        if guardrail is None:
            log.warning("WorldModel: guardrail disabled by the caller; generated clips are not checked")
        self._generators = dict(generators)
        self.tokenizers = {k: t.eval() for k, t in tokenizers.items()}
        self.tokenizer_sources = dict(tokenizer_sources or {})
        self.guardrail = guardrail

    @property
    def generators(self) -> tuple[str, ...]:
        """Names of the generators, the default first."""
        return self.config.names

    def generator(self, name: str | None = None) -> Any:
        """The generator object called ``name`` (None = the default)."""
        return self._generators[self.config.spec(name).name]

    # ------------------------------------------------------------------ persistence

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, guardrail: Any = _DEFAULT) -> "WorldModel":
        """Load a model directory (None = the bundled default). ``guardrail``: a
        ``GuardrailRunner`` (default: one with the default policy) or None to turn it off."""
        from cosmos_lite.generators import generator_class
        from cosmos_lite.tokenizer import VideoTokenizer

        d = bundled_world_model_dir() if path is None else Path(path)
        config = WorldConfig.load(path)
        generators, tokenizers, sources = {}, {}, {}
        for spec in config.generators:
            generators[spec.name] = generator_class(spec.kind).from_pretrained(d / spec.name)
            local = d / spec.tokenizer
            tokenizers[spec.name] = VideoTokenizer.from_pretrained(local if local.is_dir() else spec.tokenizer)
            if not local.is_dir():
                sources[spec.name] = spec.tokenizer
        if guardrail is _DEFAULT:
            from cosmos_lite.guardrail import GuardrailRunner

            guardrail = GuardrailRunner()
        return cls(config, generators, tokenizers, guardrail, tokenizer_sources=sources)

    def save_pretrained(self, directory: str | Path, dtype: Any = None) -> Path:
        """Write the model directory (atomically, as a whole); ``dtype`` (e.g. ``torch.float16``)
        casts the generators' weights. Tokenizers loaded by bundled name stay references."""
        from cosmos_lite.pretrained import fresh_temp_dir, swap_in, write_json

        out = Path(directory)
        tmp = fresh_temp_dir(out)
        specs = []
        for spec in self.config.generators:
            self._generators[spec.name].save_pretrained(tmp / spec.name, dtype=dtype)
            tok_ref = self.tokenizer_sources.get(spec.name)
            if tok_ref is None:
                tok_ref = f"{spec.name}/tokenizer"
                self.tokenizers[spec.name].save_pretrained(tmp / tok_ref, dtype=dtype)
            specs.append(dataclasses.replace(spec, tokenizer=tok_ref))
        write_json(tmp / WORLD_FILE, dataclasses.replace(self.config, generators=tuple(specs)).to_dict())
        for f in tmp.rglob("*"):
            f.chmod(0o755 if f.is_dir() else 0o644)  # package data: readable by every user of an install
        return swap_in(tmp, out)

    # ------------------------------------------------------------------ generation

    def check(self, request: GenerationRequest | Mapping[str, Any]) -> GenerationRequest:
        """The request checked against this model (see :func:`check_request`)."""
        return check_request(self.config, request)

    def generate(self, prompt: str, video: Any = None, actions: Any = None, num_frames: int | None = None,
                 seed: int = 0, generator: str | None = None, settings: Any = None,
                 progress: bool = True) -> GeneratedClip:
        """Generate ``num_frames`` frames (default: the generator's training clip length).

        ``video`` (uint8 [T, H, W, 3] or a file) gives the first frames (as many whole latent
        groups as the generator conditions on); ``actions`` ([num_frames, A] per frame) steer the
        ego car; ``generator`` picks one of :attr:`generators`; ``settings`` is that generator's
        settings object (e.g. ``DiffusionSettings(steps=24, guidance=1.5)``). Raises
        :class:`GenerationBlocked` when the guardrail refuses the request or the result."""
        req = GenerationRequest(prompt=prompt, video=video, actions=actions, num_frames=num_frames, seed=seed,
                                generator=generator, settings=settings)
        clip = self.generate_many([req], batch_size=1, progress=progress)[0]
        if clip.blocked:
            raise GenerationBlocked(clip.report["blocked_stage"], clip.guard_report)
        return clip

    def generate_many(self, requests: Sequence[GenerationRequest | Mapping[str, Any]], batch_size: int = 8,
                      progress: bool = True) -> list[GeneratedClip]:
        """One :class:`GeneratedClip` per request, in order. Requests are dicts of :meth:`generate`'s
        keyword arguments or :class:`GenerationRequest`; those that share a generator, settings,
        length and kind of conditioning are sampled together, ``batch_size`` at a time. Each request
        draws its noise from its own seed, so a clip is the one-by-one clip to within batch numerics
        (a grey level here and there; bit-identical for the same batch). A request the guardrail
        refuses is a result with
        ``blocked=True`` and the reasons in ``report["blocked_reasons"]``, never an exception."""
        from tqdm.auto import tqdm

        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(f"invalid batch_size: must be a positive integer, got {batch_size!r}")
        checked = []
        for i, r in enumerate(requests):
            try:
                checked.append(self.check(r))
            except (ValueError, TypeError, FileNotFoundError) as err:
                raise type(err)(f"request {i}: {err}") if len(requests) > 1 else err
        results: list[GeneratedClip | None] = [None] * len(checked)
        ready: list[tuple[int, GenerationRequest, np.ndarray | None, dict]] = []
        for i, r in enumerate(checked):
            cond, report, refusal = self._admit(r)
            if refusal is not None:
                results[i] = GeneratedClip(None, self.config.spec(r.generator).fps, report, True, refusal)
            else:
                ready.append((i, r, cond, report))
        groups: dict[tuple, list] = {}
        for item in ready:
            _, r, cond, _ = item
            key = (r.generator, repr(r.settings), r.num_frames, 0 if cond is None else len(cond), r.actions is None)
            groups.setdefault(key, []).append(item)
        batches = [g[j:j + batch_size] for g in groups.values() for j in range(0, len(g), batch_size)]
        total = sum(self.generator(b[0][1].generator).work(self._shape_only(b[0][1], b[0][2]), b[0][1].settings)
                    for b in batches)
        with tqdm(total=total, desc="generate", disable=not progress, leave=False) as bar:
            for batch in batches:
                for i, clip in zip([it[0] for it in batch], self._run_batch(batch, bar)):
                    results[i] = clip
        return results  # type: ignore[return-value]

    # ------------------------------------------------------------------ internals

    def _condition_frames(self, r: GenerationRequest) -> np.ndarray | None:
        """uint8 [n, H, W, 3] at the generator's size, n = 1 + j*t <= what it conditions on."""
        from cosmos_lite.data.io import probe_video, read_video, resize_frames

        if r.video is None:
            return None
        spec = self.config.spec(r.generator)
        t = self.tokenizers[spec.name].config.temporal_compression
        most = self.generator(spec.name).max_context_frames(t)
        if isinstance(r.video, (str, Path)):
            frames, _ = read_video(r.video, num_frames=min(most, probe_video(r.video).num_frames), size=spec.size)
        else:
            frames = r.video if r.video.shape[1:3] == spec.size else resize_frames(r.video, spec.size)
        k = min(1 + (most - 1) // t, 1 + (len(frames) - 1) // t)  # whole latent groups
        return frames[: 1 + (k - 1) * t]

    def _admit(self, r: GenerationRequest) -> tuple[np.ndarray | None, dict, Any]:
        """Condition frames, the report so far, and the guardrail's report when it refuses (else None)."""
        t0 = time.perf_counter()
        cond = self._condition_frames(r)
        report: dict[str, Any] = {"prompt": r.prompt, "seed": r.seed, "generator": r.generator,
                                  "num_frames": r.num_frames, "settings": asdict(r.settings),
                                  "condition_frames": 0 if cond is None else len(cond),
                                  "actions": r.actions is not None}
        refusal = None
        if self.guardrail is None:
            report["guardrail"] = "disabled"
        else:
            pre = self.guardrail.check_request(prompt=r.prompt, video=cond, actions=r.actions,
                                               expected_frames=r.num_frames if r.actions is not None else None,
                                               negative_prompt=getattr(r.settings, "negative_prompt", "") or None)
            report["guardrail_request"] = pre.to_dict()
            if not pre.allowed:
                report.update(blocked=True, blocked_stage="request", blocked_reasons=list(pre.reasons))
                refusal = pre
        report["timings"] = {"check_s": time.perf_counter() - t0}
        return cond, report, refusal

    def _latent_geometry(self, r: GenerationRequest) -> tuple[int, int, tuple[int, ...]]:
        """(latent frames, padded video frames, latent shape of one frame) of a request."""
        spec = self.config.spec(r.generator)
        tc = self.tokenizers[spec.name].config
        t, s = tc.temporal_compression, tc.spatial_compression
        n_lat = 1 + -(-(r.num_frames - 1) // t)  # ceil: the clip is padded to 1 + k*t frames
        hw = (spec.size[0] // s, spec.size[1] // s)
        shape = (tc.latent_dim, *hw) if tc.mode == "continuous" else hw
        return n_lat, 1 + (n_lat - 1) * t, shape

    def _shape_only(self, r: GenerationRequest, cond: np.ndarray | None):
        """A GeneratorInput with only the sizes filled in (for counting work)."""
        from cosmos_lite.generators.protocol import GeneratorInput

        import torch

        n_lat, _, shape = self._latent_geometry(r)
        context = None
        if cond is not None:  # an empty batch of the context's shape: the work left after it
            k = 1 + (len(cond) - 1) // self.tokenizers[self.config.spec(r.generator).name].config.temporal_compression
            context = torch.empty((0, shape[0], k, *shape[1:]) if len(shape) == 3 else (0, k, *shape))
        return GeneratorInput(None, None, None, None, context, None, n_lat, shape)  # type: ignore[arg-type]

    def _inputs(self, batch: list, with_actions: bool = True):
        """(GeneratorInput, per-sample seeded generators, padded video frames) of a batch of
        admitted requests that share generator, settings, length and kind of conditioning."""
        import torch

        from cosmos_lite.data.codec import frames_to_video
        from cosmos_lite.generators.conditioning import pool_actions
        from cosmos_lite.generators.protocol import GeneratorInput

        r0 = batch[0][1]
        spec = self.config.spec(r0.generator)
        tok = self.tokenizers[spec.name]
        n_lat, padded, shape = self._latent_geometry(r0)
        context = None
        if batch[0][2] is not None:
            context = torch.cat([tok.encode(frames_to_video(c)) for _, _, c, _ in batch])
            if tok.config.mode == "continuous":
                context = context.float()
        actions = None
        if with_actions and r0.actions is not None:
            a = torch.stack([torch.from_numpy(r.actions) for _, r, _, _ in batch])  # [B, T, A]
            a = torch.cat([a, a[:, -1:].expand(-1, padded - a.shape[1], -1)], dim=1)  # padded as the clip is
            actions = pool_actions(a, tok.config.temporal_compression)  # [B, n_lat, A]: once, for every generator
        text, mask = self.text_encoder.encode([r.prompt for _, r, _, _ in batch])
        neg, neg_mask = self.text_encoder.encode([getattr(r.settings, "negative_prompt", "") for _, r, _, _ in batch])
        seeds = [torch.Generator().manual_seed(r.seed) for _, r, _, _ in batch]
        return GeneratorInput(text, mask, neg, neg_mask, context, actions, n_lat, shape), seeds, padded

    def _run_batch(self, batch: list, bar) -> list[GeneratedClip]:
        import torch

        from cosmos_lite.data.codec import video_to_frames

        r0 = batch[0][1]
        spec = self.config.spec(r0.generator)
        gen, tok = self.generator(spec.name), self.tokenizers[spec.name]
        t = tok.config.temporal_compression
        t0 = time.perf_counter()
        with torch.no_grad():
            inp, seeds, padded = self._inputs(batch)
            t1 = time.perf_counter()
            out = gen.sample(inp, r0.settings, seeds, callback=lambda i: bar.update(1))
            t2 = time.perf_counter()
            # one latent frame at a time: a conv's kernel choice (and so its rounding) depends on the
            # clip's length, and a session decodes step by step; this way both give the same bits
            video = tok.decode(out, num_frames=padded, chunk_frames=1)  # [B, 3, T, H, W]
            t3 = time.perf_counter()
        clips = []
        for b, (_, r, cond, report) in enumerate(batch):
            frames = video_to_frames(video[b:b + 1])[: r.num_frames]
            report["timings"].update(prepare_s=t1 - t0, sample_s=t2 - t1, decode_s=t3 - t2, batch_size=len(batch))
            report["condition_latents"] = 0 if cond is None else 1 + (len(cond) - 1) // t
            frames, refusal = self._check_output(frames, cond, report)
            report["timings"]["total_s"] = time.perf_counter() - t0 + report["timings"]["check_s"]
            clips.append(GeneratedClip(frames, spec.fps, report, refusal is not None, refusal))
        return clips

    def _check_output(self, frames: np.ndarray, cond: np.ndarray | None, report: dict) -> tuple[Any, Any]:
        """(the guardrail's frames or None, its refusing report or None); the report records the verdict."""
        if self.guardrail is None:
            return frames, None
        safe, post = self.guardrail.check_output(frames, condition_frames=cond)
        report["guardrail_output"] = post.to_dict()
        if safe is None:
            report.update(blocked=True, blocked_stage="generated clip", blocked_reasons=list(post.reasons))
            return None, post
        return safe, None

    def session(self, prompt: str, video: Any = None, actions: Any = None, seed: int = 0,
                generator: str | None = None, settings: Any = None):
        """A closed-loop rollout: ``session.step(actions)`` generates the next frames. See
        :class:`cosmos_lite.session.Session`."""
        from cosmos_lite.session import Session

        return Session(self, prompt, video=video, actions=actions, seed=seed, generator=generator, settings=settings)
