"""The artifact of a one-shot GPU run (:mod:`cosmos_lite.train.oneshot`): packing it there, installing it here.

The GPU machine returns at most 8 files of at most 16 MiB each, so the run writes one
uncompressed tar per model directory, plus ``report.json``::

    OUT/default-cv.tar                   tokenizer (config.json + model.safetensors, fp16)
    OUT/default-dv.tar                   discrete tokenizer, warm-started from default-cv
    OUT/world.tar                        world.json + diffusion/ (the DiT, fp16)
    OUT/world.autoregressive.tar         autoregressive/ (the AR transformer, fp16): a second part of
                                         the world model directory, since both generators together
                                         pass 16 MiB (10 + 14 MB)
    OUT/scene-reader.tar, OUT/idm.tar    the instruments
    OUT/report.json                      per stage: steps, seconds, throughput, MFU, validation

The world model refers to its tokenizers by the bundled names ``default-cv`` / ``default-dv``
(as the shipped one does), so it works with the tokenizers installed beside it;
``report.json`` records their sha256 and :func:`install` refuses tars that do not match.

:func:`install` unpacks every model into a temp directory beside its destination, loads each
with its ``from_pretrained`` (the world model with the unpacked tokenizers), and only when all
of them load swaps them in (``fresh_temp_dir`` / ``swap_in``): a failure leaves every
destination as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

from cosmos_lite.pretrained import WEIGHTS_NAME, atomic_write, fresh_temp_dir, swap_in

REPORT = "report.json"
MAX_FILES = 8
MAX_FILE_BYTES = 16 * 2**20
# model -> (destination relative to a --target root laid out like the repository)
MODELS: dict[str, str] = {
    "default-cv": "tokenizer/weights/default-cv",
    "default-dv": "tokenizer/weights/default-dv",
    "world": "cosmos_lite/weights/world",
    "scene-reader": "cosmos_lite/eval/weights/scene-reader",
    "idm": "cosmos_lite/eval/weights/idm",
}
TOKENIZER_OF = {"diffusion": "default-cv", "autoregressive": "default-dv"}  # world generator -> its tokenizer


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- packing (GPU side)


def tar_parts(model: str, directory: Path) -> dict[str, list[Path]]:
    """The tars one model directory packs into: tar name -> top-level entries it holds. The
    world model has one tar per generator (world.json goes with the first)."""
    entries = sorted(directory.iterdir())
    if model != "world":
        return {f"{model}.tar": entries}
    config = json.loads((directory / "world.json").read_text())
    names = [g["name"] for g in config["generators"]]
    parts = {"world.tar": [directory / "world.json", directory / names[0]]}
    for name in names[1:]:
        parts[f"world.{name}.tar"] = [directory / name]
    return parts


def pack(models: dict[str, Path], out: Path) -> dict[str, int]:
    """Write each model directory of ``models`` as uncompressed tar(s) into ``out`` (atomically per
    file); returns file name -> bytes. Files over the device's 16 MiB limit are reported, not refused:
    at the end of a run the weights are worth more than the rule (the device tool drops them)."""
    sizes = {}
    for model, directory in models.items():
        for name, entries in tar_parts(model, directory).items():
            def write(tmp: Path, entries=entries) -> None:
                with tarfile.open(tmp, "w") as tf:
                    for e in entries:
                        tf.add(e, arcname=e.name)

            path = atomic_write(out / name, write)
            sizes[name] = path.stat().st_size
            if sizes[name] > MAX_FILE_BYTES:
                print(f"oneshot: WARNING {name} is {sizes[name] / 2**20:.1f} MiB, over the {MAX_FILE_BYTES >> 20} "
                      "MiB a device file may have", flush=True)
    return sizes


# --------------------------------------------------------------------------- installing (CPU side)


def default_destinations() -> dict[str, Path]:
    """Where the package reads its bundled models (the repository's folders in an editable install)."""
    from cosmos_lite.eval.idm import InverseDynamics
    from cosmos_lite.eval.reader import SceneReader
    from cosmos_lite.tokenizer import VideoTokenizer
    from cosmos_lite.world import bundled_world_model_dir

    return {"default-cv": VideoTokenizer.bundled_dir / "default-cv",
            "default-dv": VideoTokenizer.bundled_dir / "default-dv",
            "world": bundled_world_model_dir(),
            "scene-reader": SceneReader.bundled_dir / "scene-reader",
            "idm": InverseDynamics.bundled_dir / "idm"}


def _tars_of(src: Path, model: str) -> list[Path]:
    if model == "world":
        return [src / "world.tar"] + sorted(src.glob("world.*.tar"))
    return [src / f"{model}.tar"]


def check_artifact(src: Path) -> dict[str, Any]:
    """``report.json`` of a run's output folder, after checking every expected tar is there."""
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such folder (the files a one-shot run returned)")
    if not (src / REPORT).is_file():
        raise FileNotFoundError(f"{src}: no {REPORT}; not the output of `oneshot run`, or the run did not finish")
    missing = [str(t.name) for m in MODELS for t in _tars_of(src, m) if not t.is_file()]
    if missing:
        raise FileNotFoundError(f"{src}: missing {', '.join(missing)} (a one-shot run writes all of "
                                f"{', '.join(f'{m}.tar' for m in MODELS)})")
    return json.loads((src / REPORT).read_text())


def _unpack(tar: Path, into: Path) -> None:
    with tarfile.open(tar) as tf:
        tf.extractall(into, filter="data")  # "data": no absolute paths, links out or devices


def _check_loads(staged: dict[str, Path], report: dict[str, Any]) -> dict[str, str]:
    """Load every staged model with its from_pretrained; the world model with the staged tokenizers,
    whose weights must be the ones its generators were trained with (sha256 in the report)."""
    from cosmos_lite.eval.idm import InverseDynamics
    from cosmos_lite.eval.reader import SceneReader
    from cosmos_lite.generators import generator_class
    from cosmos_lite.tokenizer import VideoTokenizer
    from cosmos_lite.world import WorldConfig, WorldModel

    loaded = {}
    toks = {m: VideoTokenizer.from_pretrained(staged[m]) for m in ("default-cv", "default-dv")}
    for m, tok in toks.items():
        loaded[m] = f"VideoTokenizer {tok.config.mode}"
    SceneReader.from_pretrained(staged["scene-reader"])
    InverseDynamics.from_pretrained(staged["idm"])
    loaded["scene-reader"], loaded["idm"] = "SceneReader", "InverseDynamics"
    config = WorldConfig.load(staged["world"])
    gens, gen_toks = {}, {}
    for spec in config.generators:
        gens[spec.name] = generator_class(spec.kind).from_pretrained(staged["world"] / spec.name)
        if spec.tokenizer not in toks:
            raise ValueError(f"world generator {spec.name!r} refers to tokenizer {spec.tokenizer!r}, not one of "
                             f"the installed {sorted(toks)}")
        want = report["world"]["tokenizers"][spec.name]["sha256"]
        if sha256_of(staged[spec.tokenizer] / WEIGHTS_NAME) != want:
            raise ValueError(f"{spec.tokenizer}.tar is not the tokenizer world generator {spec.name!r} was trained "
                             "with (sha256 differs from report.json)")
        gen_toks[spec.name] = toks[spec.tokenizer]
    WorldModel(config, gens, gen_toks, guardrail=None, tokenizer_sources={n: s.tokenizer for n, s in
                                                                         zip(config.names, config.generators)})
    loaded["world"] = "WorldModel " + "+".join(config.names)
    return loaded


def install(src: str | Path, target: str | Path | None = None) -> dict[str, Path]:
    """Install the models a one-shot run returned (folder ``src``) into ``target`` (a root laid out
    like the repository; None = the package's bundled locations). All or nothing."""
    src = Path(src)
    report = check_artifact(src)
    dests = default_destinations() if target is None else {m: Path(target) / rel for m, rel in MODELS.items()}
    staged: dict[str, Path] = {}
    try:
        for model, dest in dests.items():
            dest.parent.mkdir(parents=True, exist_ok=True)
            staged[model] = fresh_temp_dir(dest)
            for tar in _tars_of(src, model):
                _unpack(tar, staged[model])
        loaded = _check_loads(staged, report)
    except BaseException:
        for tmp in staged.values():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    for model, dest in dests.items():
        swap_in(staged[model], dest)
        print(f"installed {model}: {loaded[model]} -> {dest}", flush=True)
    return dests
