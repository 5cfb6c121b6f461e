"""``cosmos-lite edge-cases``: catalog, plan, QC and resampling, outputs, kill + resume, every flag."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import tiny_world
from cosmos_lite.cli import main
from cosmos_lite.edge_cases import qc
from cosmos_lite.edge_cases.catalog import default_catalog, parse_catalog
from cosmos_lite.edge_cases.plan import RESAMPLE_PRIME
from cosmos_lite.edge_cases.run import run_edge_cases
from cosmos_lite.scenes import ACTION_RANGE, EVENTS

pytestmark = pytest.mark.usefixtures("one_thread")


def _no_instruments() -> qc.Instruments:
    return qc.Instruments()


@pytest.fixture(autouse=True)
def no_bundled_instruments(monkeypatch):
    """Runs see no scene reader or inverse dynamics, whether or not this checkout bundles them, so the
    verdicts below do not change when they land (tests that need the real lookup undo this)."""
    monkeypatch.setattr(qc, "load_instruments", _no_instruments)

ROOT = Path(__file__).resolve().parent
UNSAFE = json.loads((ROOT / "data" / "prompts" / "unsafe.jsonl").read_text().splitlines()[0])["text"]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    """A tiny untrained world model (32x48, 9 frames) trained, as the simulator's drivers act, on ACTION_RANGE."""
    rng = (ACTION_RANGE["acceleration"], ACTION_RANGE["curvature"])
    return str(tiny_world((32, 48), 9, action_range=rng).save_pretrained(tmp_path_factory.mktemp("w") / "model"))


def _catalog(tmp: Path, data: dict, name: str = "catalog.json") -> str:
    path = tmp / name
    path.write_text(json.dumps(data))
    return str(path)


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def _clips(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "clips").iterdir())}


SMALL = {"name": "small", "settings": {"steps": 1}, "items": [
    {"event": "cut_in", "conditions": ["night, rain", "fog"], "start_state": True},
    {"event": "debris", "conditions": ["dusk"], "prompt": "{caption}"},
    {"event": "pedestrian_crossing", "conditions": ["snow", "night"], "start_state": True,
     "behaviour": {"kind": "swerve_left", "start": 0.2, "strength": 0.9}},
]}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.videos, self.ids, self.refs, self.scripts = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "video":
            self.videos.append(a["src"])
        if "data-id" in a:
            self.ids.append(a["data-id"])
        self.refs += [v for k, v in attrs if k in ("src", "href")]
        self.scripts += tag in ("script", "link", "img", "iframe")


def _page(out: Path) -> _Page:
    p = _Page()
    p.feed((out / "index.html").read_text(encoding="utf-8"))
    return p


# --------------------------------------------------------------------------- the built-in catalog, end to end


@pytest.fixture(scope="module")
def default_run(model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("default") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qc, "load_instruments", _no_instruments)
        assert main(["edge-cases", "--out", str(out), "--n", "8", "--model", model, "--no-progress"]) == 0
    return out


def test_default_catalog_n8_gives_rows_clips_sheet_and_gallery(default_run):
    from cosmos_lite.data.io import read_video

    rows = _rows(default_run)
    assert len(rows) == 8 and [r["index"] for r in rows] == list(range(8))
    # the spread order: 8 different events under 8 different conditions, night among them
    assert len({r["event"] for r in rows}) == 8 and len({r["condition"] for r in rows}) == 8
    assert any("night" in r["condition"] for r in rows) and "none" not in {r["event"] for r in rows}
    for r in rows:
        # the untrained model makes noise, which the guardrail sometimes calls frozen: then it tries new seeds
        assert r["seeds"] == [r["index"] + k * RESAMPLE_PRIME for k in range(len(r["attempts"]))]
        assert all(a["outcome"] == "qc failed" for a in r["attempts"][:-1])
        assert r["status"] in ("accepted", "rejected") and r["seed"] == r["seeds"][-1]
        if r["status"] == "accepted":
            frames, fps = read_video(default_run / r["file"])
            assert frames.shape == (9, 32, 48, 3) and fps == pytest.approx(10.0)
            assert r["guardrail"]["output"]["video_integrity"] == "pass" == r["qc"]["integrity"]["guardrail"]
            assert r["qc"]["event"] == "unavailable" and r["qc"]["actions"] == "unavailable"  # no instruments
        assert r["settings"] == {"steps": 24, "guidance": 1.5, "solver": "dpm", "negative_prompt": ""}
        assert r["guardrail"]["request"]["prompt_blocklist"] == "pass"
        assert r["start_state"]["condition_frames"] == 5 and r["start_state"]["actions"]["frames"] == 9
        assert r["start_state"]["behaviour"]["kind"] == "keep" and r["scene"]["split"] == "test"
        assert r["prompt"].startswith(r["condition"] + ", ")
    sheet = (default_run / "contact_sheet.png").read_bytes()
    assert sheet[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = np.frombuffer(sheet[16:24], ">u4")
    assert h == 8 * (20 + 32) + 7 * 2 and w >= 4 * 50  # a row per item
    page = _page(default_run)
    assert page.ids == [r["id"] for r in rows]
    assert sorted(page.videos) == sorted(r["file"] for r in rows if r["file"])
    assert sum(r["status"] == "accepted" for r in rows) >= 6
    assert all((default_run / src).is_file() for src in page.videos)
    assert page.scripts == 0 and not [r for r in page.refs if "//" in r or r.startswith("/")]  # offline, relative


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no headless chromium here")
def test_gallery_renders_in_headless_chromium(default_run):
    dom = subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--dump-dom",
                          (default_run / "index.html").as_uri()], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    assert dom.count("<video") == sum(bool(r["file"]) for r in _rows(default_run))


def test_rerun_is_a_no_op_and_another_plan_is_refused(default_run, model, capsys):
    before = (default_run / "manifest.jsonl").read_text()
    assert main(["edge-cases", "--out", str(default_run), "--n", "8", "--model", model, "--no-progress"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert (default_run / "manifest.jsonl").read_text() == before
    assert main(["edge-cases", "--out", str(default_run), "--n", "4", "--model", model, "--no-guardrail"]) == 2
    err = capsys.readouterr().err
    assert "holds a run with another plan" in err and "n: 8 (existing) vs 4 (requested)" in err
    assert "guardrail: true (existing) vs false (requested)" in err


def test_printed_catalog_is_the_builtin_and_reads_back_as_it(default_run, model, tmp_path, capsys):
    assert main(["edge-cases", "--print-catalog"]) == 0
    printed = capsys.readouterr().out
    data = json.loads(printed)
    assert data == default_catalog().to_dict() and len(data["items"]) == len(EVENTS) - 1
    assert all(len(e["conditions"]) == 12 for e in data["items"])  # every weather x lighting
    # the printed catalog is the one the default run used: same plan, so nothing to redo
    path = tmp_path / "builtin.json"
    path.write_text(printed)
    assert main(["edge-cases", "--out", str(default_run), "--catalog", str(path), "--n", "8", "--model", model,
                 "--no-progress"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    # --print-catalog prints a given catalog normalised, every default filled in
    assert main(["edge-cases", "--print-catalog", "--catalog", _catalog(tmp_path, {
        "name": "x", "items": [{"event": "cut_in", "conditions": ["rain, night"]}]})]) == 0
    item = json.loads(capsys.readouterr().out)["items"][0]
    assert item == {"event": "cut_in", "conditions": ["night, rain"], "behaviour": "keep",
                    "prompt": "{condition}, {event_phrase}", "start_state": False, "count": 1}


# --------------------------------------------------------------------------- guardrail, failures


def test_unsafe_item_is_blocked_and_the_rest_finish(model, tmp_path, capsys):
    cat = {"name": "unsafe", "settings": {"steps": 1}, "items": [
        {"event": "cut_in", "conditions": ["night"], "prompt": UNSAFE},
        {"event": "debris", "conditions": ["fog", "dusk"], "start_state": True}]}
    path = _catalog(tmp_path, cat)
    out = tmp_path / "out"
    assert main(["edge-cases", "--out", str(out), "--catalog", path, "--model", model, "--no-progress"]) == 0
    rows = _rows(out)
    assert rows[0]["status"] == "blocked" and {r["status"] for r in rows[1:]} <= {"accepted", "rejected"}
    b = rows[0]
    assert b["prompt"] == UNSAFE and b["blocked_reasons"] and b["file"] is None and b["qc"] is None
    assert "block" in b["guardrail"]["request"].values() and "output" not in b["guardrail"]
    assert b["seeds"] == [b["seed"]]  # a policy block is final: never resampled
    assert "1 blocked" in capsys.readouterr().out
    assert _page(out).ids == [r["id"] for r in rows] and len(_page(out).videos) == sum(bool(r["file"]) for r in rows)
    assert not (out / "clips" / f"{b['id']}.mp4").exists()
    # --no-guardrail: the same catalog is made, nothing checked (the flag is what blocked it above)
    out2 = tmp_path / "unguarded"
    assert main(["edge-cases", "--out", str(out2), "--catalog", path, "--model", model, "--no-guardrail",
                 "--no-progress"]) == 0
    rows2 = _rows(out2)
    assert [r["status"] for r in rows2] == ["accepted"] * 3 and {r["guardrail"] for r in rows2} == {"disabled"}
    assert {r["qc"]["integrity"]["guardrail"] for r in rows2} == {"disabled"}


def test_request_the_model_cannot_take_is_failed_and_the_rest_finish(tmp_path):
    # a model trained on gentler braking than the simulator's emergency stops
    narrow = str(tiny_world((32, 48), 9).save_pretrained(tmp_path / "narrow"))  # accel in [-8, 4]
    cat = parse_catalog({"name": "f", "settings": {"steps": 1}, "items": [
        {"event": "stopped_vehicle", "conditions": ["snow"], "start_state": True},
        {"event": "cut_in", "conditions": ["night"]}]})
    res = run_edge_cases(tmp_path / "out", cat, model=narrow, guardrail=False, progress=False)
    rows = _rows(res.out)
    assert [r["status"] for r in rows] == ["failed", "accepted"] and res.counts["failed"] == 1
    assert "outside [-8, 4]" in rows[0]["error"] and rows[0]["file"] is None and rows[0]["seeds"] == []
    assert rows[0]["start_state"]["actions"]["acceleration"]["min"] < -8


# --------------------------------------------------------------------------- QC and resampling


class _Reader:
    def __init__(self):
        self.calls = 0

    def read_clip(self, frames):
        assert frames.dtype == np.uint8 and frames.shape == (9, 32, 48, 3)
        self.calls += 1
        return {"call": self.calls}


def test_qc_failure_resamples_with_a_new_seed_then_rejects(model, tmp_path):
    seen: dict[str, int] = {}

    def found(reader_out, event_kind):
        seen[event_kind] = seen.get(event_kind, 0) + 1
        # cut_in: missed on the first attempt only; debris: never found
        return event_kind == "cut_in" and seen[event_kind] > 1

    cat = parse_catalog({"name": "qc", "settings": {"steps": 1}, "max_attempts": 3, "seed": 10, "items": [
        {"event": "cut_in", "conditions": ["night"]}, {"event": "debris", "conditions": ["fog"]}]})
    reader = _Reader()
    res = run_edge_cases(tmp_path / "out", cat, model=model, guardrail=False, progress=False,
                         instruments=qc.Instruments(reader=reader, event_found=found))
    ok, bad = _rows(res.out)
    assert ok["status"] == "accepted" and ok["seeds"] == [10, 10 + RESAMPLE_PRIME] == [a["seed"] for a in ok["attempts"]]
    assert [a["outcome"] for a in ok["attempts"]] == ["qc failed", "accepted"] and ok["seed"] == 10 + RESAMPLE_PRIME
    assert ok["attempts"][0]["qc"]["event"] == "missing" and ok["attempts"][0]["qc"]["failed"] == ["event"]
    assert ok["qc"]["event"] == "found" and ok["qc"]["passed"]
    assert bad["status"] == "rejected" and bad["seeds"] == [11 + k * RESAMPLE_PRIME for k in range(3)]
    assert [a["qc"]["event"] for a in bad["attempts"]] == ["missing"] * 3
    assert bad["qc"]["integrity"]["passed"] and (res.out / bad["file"]).is_file()  # the last try, kept to look at
    assert reader.calls == 5 and res.counts == {"accepted": 1, "rejected": 1, "blocked": 0, "failed": 0}
    assert json.loads((res.out / "plan.json").read_text())["instruments"]["event_reader"] == "_Reader"
    assert "rejected" in (res.out / "index.html").read_text()


def test_integrity_rules():
    from cosmos_lite.scenes import Scenario, render

    sc = next(s for s in (Scenario.sample(k, split="test", duration=3.3) for k in range(500))
              if (s.weather, s.lighting) == ("fog", "night"))  # the darkest, lowest-contrast look
    real = render(sc, 33, (32, 48), 10.0).frames
    assert qc.integrity(real, 5, "pass", [])["passed"]
    black = (real // 12).astype(np.uint8)
    assert "black" in qc.integrity(black, 5, "pass", [])["problems"]
    frozen = np.repeat(real[:1], 33, axis=0)
    frozen[::2, :8] += 1  # a sliver of change: relative to its contrast, still frozen
    r = qc.integrity(frozen, 5, "pass", [])
    assert not r["passed"] and "frozen" in r["problems"]
    grey = np.full_like(real, 128)
    assert "blank" in qc.integrity(grey, 0, "disabled", [])["problems"]
    blocked = qc.integrity(None, 5, "block", ["frames: blank clip"])
    assert not blocked["passed"] and blocked["guardrail_reasons"] == ["frames: blank clip"]


class _IDM:
    def __init__(self, pred):
        self.pred = pred

    def predict(self, frames):
        return self.pred


def test_action_following_rules():
    frames = np.zeros((9, 32, 48, 3), np.uint8)
    cmd = np.zeros((9, 2), np.float32)
    cmd[2:, 1] = [0.02, 0.02, -0.01, -0.03, 0.004, 0.05, 0.0]
    # scored: transitions 4.. (into generated frames) that turn >= CURVATURE_MIN: t = 4, 5, 7
    assert qc.actions(qc.Instruments(idm=_IDM(cmd)), frames, cmd, 5) == {"agreement": 1.0, "frames": 3,
                                                                         "passed": True}
    flipped = qc.actions(qc.Instruments(idm=_IDM(-cmd)), frames, cmd, 5)
    assert flipped["agreement"] == 0.0 and not flipped["passed"]
    assert qc.actions(qc.Instruments(idm=_IDM(cmd)), frames, np.zeros_like(cmd), 5) == "no steering"
    assert qc.actions(qc.Instruments(), frames, cmd, 5) == "unavailable"
    assert qc.actions(qc.Instruments(idm=_IDM(cmd)), frames, None, 0) == "no actions"
    verdict = qc.judge(qc.Instruments(idm=_IDM(-cmd)), frames + 60, "cut_in", cmd, 5, "pass", [])
    assert "actions" in verdict["failed"] and not verdict["passed"]


def test_bundled_instruments_are_found_or_recorded_unavailable(monkeypatch):
    monkeypatch.undo()
    inst = qc.load_instruments()
    d = inst.describe()
    assert d["event_reader"] in ("unavailable", "SceneReader") and (inst.reader is None) == (inst.event_found is None)
    assert d["inverse_dynamics"] in ("unavailable", "InverseDynamics")
    from cosmos_lite.eval import reader

    def missing():
        raise FileNotFoundError("no bundled weights")

    monkeypatch.setattr(reader.SceneReader, "from_pretrained", missing)  # the module exists, its weights do not
    monkeypatch.setitem(sys.modules, "cosmos_lite.eval.idm", None)  # no such module (yet)
    assert qc.load_instruments().describe() == {"event_reader": "unavailable", "inverse_dynamics": "unavailable"}


# --------------------------------------------------------------------------- kill -9 and resume


def test_killed_then_resumed_equals_unbroken(model, tmp_path, monkeypatch):
    monkeypatch.undo()  # the killed subprocess looks its instruments up for real: so does the unbroken run
    cat = _catalog(tmp_path, {**SMALL, "seeds_per_item": 2})  # 10 items
    args = ["edge-cases", "--catalog", cat, "--model", model, "--batch-size", "2", "--no-guardrail", "--no-progress"]
    unbroken = tmp_path / "unbroken"
    assert main([*args, "--out", str(unbroken)]) == 0
    assert len(_rows(unbroken)) == 10

    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "cosmos_lite", *args, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 60
        while not list((out / "items").glob("[!.]*.json")):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no item finished within 60 s"
            time.sleep(0.002)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finished = sorted((out / "items").glob("[!.]*.json"))
    assert 1 <= len(finished) < 10 and not (out / "manifest.jsonl").exists()
    if len(finished) % 2 == 0:  # killed between chunks: make it a kill inside one (its first item done only)
        finished[-1].unlink()
    (out / "clips" / ".0009-x.partial.mp4").write_bytes(b"\0" * 64)  # what a kill inside write_video leaves
    kept = {f"{p.stem}.mp4" for p in (out / "items").glob("[!.]*.json")}
    before = {k: v for k, v in _clips(out).items() if k in kept}
    assert main([*args, "--out", str(out)]) == 0
    # the same frames, verdicts and scores, in the same order (frames_sha256: the generated frames' bytes)
    assert (out / "manifest.jsonl").read_text() == (unbroken / "manifest.jsonl").read_text()
    assert all(r["frames_sha256"] for r in _rows(out))
    after = _clips(out)
    assert set(after) == set(_clips(unbroken)) and {k: after[k] for k in before} == before  # finished: untouched
    # the .mp4 bytes of clips made again are not compared with the unbroken run's: write_video's H.264 encoder
    # does not always turn equal 48-pixel-wide frames into equal bytes (see the package docstring)
    assert not list((out / "clips").glob(".*")) and not list((out / "items").glob(".*"))


# --------------------------------------------------------------------------- flags and catalog fields


def test_batch_size_sets_the_batches_and_the_plan_and_progress_flag(model, tmp_path, monkeypatch, capsys):
    from cosmos_lite.world import WorldModel

    sizes: list[int] = []
    real = WorldModel._run_batch
    monkeypatch.setattr(WorldModel, "_run_batch", lambda self, batch, bar: sizes.append(len(batch)) or
                        real(self, batch, bar))
    cat = _catalog(tmp_path, {"name": "b", "settings": {"steps": 1},
                              "items": [{"event": "lead_brake", "conditions": ["rain", "night", "dusk, snow", "fog"]}]})
    args = ["edge-cases", "--catalog", cat, "--model", model, "--no-guardrail"]
    assert main([*args, "--out", str(tmp_path / "one"), "--batch-size", "1", "--n", "3"]) == 0
    assert sizes == [1, 1, 1] and "edge-cases: 100%" in capsys.readouterr().err
    sizes.clear()
    assert main([*args, "--out", str(tmp_path / "three"), "--batch-size", "3", "--n", "3", "--no-progress"]) == 0
    assert sizes == [3] and "edge-cases:" not in capsys.readouterr().err
    one, three = _rows(tmp_path / "one"), _rows(tmp_path / "three")
    assert len(one) == 3  # --n
    assert [(r["id"], r["prompt"], r["seeds"]) for r in one] == [(r["id"], r["prompt"], r["seeds"]) for r in three]
    # a batch may move a pixel by a grey level: the batch size is part of the plan, a resume must keep it
    assert main([*args, "--out", str(tmp_path / "one"), "--batch-size", "3", "--n", "3"]) == 2
    assert "batch_size: 1 (existing) vs 3 (requested)" in capsys.readouterr().err


def test_catalog_fields_shape_the_plan(model, tmp_path):
    from cosmos_lite.edge_cases.catalog import load_catalog
    from cosmos_lite.edge_cases.plan import build_plan
    from cosmos_lite.world import WorldConfig

    config = WorldConfig.load(model)
    plan = build_plan(parse_catalog({**SMALL, "seeds_per_item": 2, "seed": 7, "frames": 13}), config, "m")
    items = plan.items
    assert len(items) == 10 and [it.seed for it in items] == list(range(7, 17))
    # spread: round-robin over entries, conditions staggered per entry, seeds before new conditions repeat
    assert [(it.entry, it.condition) for it in items[:6]] == [(0, "night, rain"), (1, "dusk"), (2, "snow"),
                                                               (0, "fog"), (1, "dusk"), (2, "night")]
    assert {it.num_frames for it in items} == {13} and items[0].start_state and not items[1].start_state
    assert items[1].scene_seed == items[4].scene_seed and items[1].seed != items[4].seed  # seeds_per_item
    swerve = next(it for it in items if it.event == "pedestrian_crossing")
    assert swerve.behaviour == {"kind": "swerve_left", "start": 0.2, "strength": 0.9, "seed": 0}
    frames, actions = swerve.start()
    assert frames.shape == (5, 32, 48, 3) and actions.shape == (13, 2) and actions[3:, 1].max() > 0.005  # steers left
    keep = build_plan(parse_catalog({**SMALL, "items": [{**SMALL["items"][2], "behaviour": "keep"}]}), config, "m")
    assert np.abs(keep.items[0].start()[1][:, 1]).max() < np.abs(actions[:, 1]).max()  # the one field is the trajectory
    sc = swerve.scenario()
    assert (sc.event.kind, sc.weather, sc.lighting) in {("pedestrian_crossing", "snow", "day"),
                                                        ("pedestrian_crossing", "clear", "night")}
    count = build_plan(parse_catalog({"name": "c", "items": [{"event": "cut_in", "conditions": ["fog"], "count": 3}]}),
                       config, "m")
    assert len({it.scene_seed for it in count.items}) == 3  # count: different scenes
    yaml_path = tmp_path / "c.yaml"
    yaml_path.write_text("name: small\nsettings: {steps: 1}\nitems:\n"
                         "  - {event: cut_in, conditions: ['night, rain', fog], start_state: true}\n")
    assert load_catalog(yaml_path).items[0] == parse_catalog(SMALL).items[0]


BAD = [
    ({"items": [{"event": "cut_in", "conditions": ["night"]}]}, "name: missing"),
    ({"name": "x"}, "items: missing"),
    ({"name": "x", "items": []}, "items: must be a non-empty list"),
    ({"name": "x", "colour": 1, "items": []}, "colour: unknown field"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["night"], "colour": 1}]}, "items[0].colour: unknown field"),
    ({"name": "x", "items": [{"event": "ufo", "conditions": ["night"]}]}, "items[0].event: unknown event 'ufo'"),
    ({"name": "x", "items": [{"event": "cut_in"}]}, "items[0].conditions: missing"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["night", "nite"]}]},
     "items[0].conditions[1]: unknown condition word 'nite'"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["night, dusk"]}]}, "items[0].conditions[0]:"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["fog", "fog"]}]}, "items[0].conditions: lists 'fog'"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["fog"], "count": 0}]}, "items[0].count: must be in"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["fog"], "start_state": "yes"}]},
     "items[0].start_state: must be true or false"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["fog"], "prompt": "{weather}"}]},
     "items[0].prompt: unknown placeholder {weather}"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["fog"], "behaviour": "moonwalk"}]},
     "items[0].behaviour: unknown ego behaviour 'moonwalk'"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["fog"], "behaviour": "swerve_left"}]},
     "items[0].behaviour: only applies with \"start_state\": true"),
    ({"name": "x", "items": [{"event": "cut_in", "conditions": ["fog"], "start_state": True,
                              "behaviour": {"kind": "swerve_left", "start": 99}}]}, "items[0].behaviour: ego behaviour"),
    ({"name": "x", "max_attempts": 0, "items": [{"event": "cut_in", "conditions": ["fog"]}]}, "max_attempts: must be in"),
    ({"name": "x", "settings": {"stepz": 2}, "items": [{"event": "cut_in", "conditions": ["fog"]}]},
     "settings.stepz: unknown field for the diffusion generator"),
    ({"name": "x", "settings": {"steps": 0}, "items": [{"event": "cut_in", "conditions": ["fog"]}]}, "settings: "),
    ({"name": "x", "generator": "ar", "items": [{"event": "cut_in", "conditions": ["fog"]}]},
     "generator: invalid generator 'ar'"),
    ({"name": "x", "frames": 5, "items": [{"event": "cut_in", "conditions": ["fog"], "start_state": True}]},
     "items[0].start_state: needs clips longer than its 5 start frames"),
]


@pytest.mark.parametrize("data, message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_catalog_is_one_line_naming_the_field(data, message, model, tmp_path, capsys):
    path = _catalog(tmp_path, data)
    assert main(["edge-cases", "--out", str(tmp_path / "out"), "--catalog", path, "--model", model]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"cosmos-lite edge-cases: error: {path}: ") and message in err and "\n" not in err
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_unreadable_catalog_and_missing_out(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{name: x")
    assert main(["edge-cases", "--out", str(tmp_path / "o"), "--catalog", str(tmp_path / "bad.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    (tmp_path / "c.txt").write_text("{}")
    assert main(["edge-cases", "--out", str(tmp_path / "o"), "--catalog", str(tmp_path / "c.txt")]) == 2
    assert "a catalog is a .json" in capsys.readouterr().err
    assert main(["edge-cases", "--catalog", str(tmp_path / "nope.json")]) == 2
    assert "no such catalog file" in capsys.readouterr().err
    assert main(["edge-cases"]) == 2
    assert "--out is required" in capsys.readouterr().err


def test_help_documents_the_schema(capsys):
    with pytest.raises(SystemExit):
        main(["edge-cases", "--help"])
    text = capsys.readouterr().out
    for word in ("seeds_per_item", "max_attempts", "start_state", "{event_phrase}", "behaviour", "count"):
        assert word in text
