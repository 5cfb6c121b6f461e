"""Scene export: manifest content, resumability (killed + resumed == unbroken), CLI."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from cosmos_lite.scenes.export import MANIFEST, ExportSettings, export

SETTINGS = ExportSettings(frames=8, height=32, width=48, fps=10.0, split="val", seed_offset=5)


def _videos(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "clips").glob("[!.]*.mp4"))}


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("unbroken")
    res = export(out, 4, SETTINGS, workers=2, progress=False)
    assert res.complete and res.rendered == 4
    return out


def test_manifest_rows(unbroken):
    from cosmos_lite.data.io import read_video
    from cosmos_lite.scenes import Scenario

    rows = [json.loads(line) for line in (unbroken / MANIFEST).read_text().splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    r = rows[1]
    assert r["file"] == "clips/val_000000006.mp4" and r["split"] == "val"
    assert len(r["actions"]) == 8 and len(r["speed"]) == 8 and len(r["labels"]) == 8
    sc = Scenario.from_dict(r["scenario"])
    assert sc.seed == r["seed"] == Scenario.sample(6, split="val").seed
    frames, fps = read_video(unbroken / r["file"])
    assert frames.shape == (8, 32, 48, 3) and fps == pytest.approx(10.0)
    assert isinstance(r["caption"], str) and r["caption"]


def test_killed_and_resumed_export_equals_unbroken(unbroken, tmp_path, capsys):
    out = tmp_path / "resumed"
    first = export(out, 4, SETTINGS, limit=2, progress=False)  # a run that stopped early
    assert not first.complete and first.rendered == 2
    names = sorted(p.stem for p in (out / "clips").glob("*.json"))
    assert len(names) == 2 and len((out / MANIFEST).read_text().splitlines()) == 2
    # simulate a kill in the middle of clip 1: its row never got written, a temp file lingers
    (out / "clips" / f"{names[1]}.json").unlink()
    (out / "clips" / f".{names[1]}.partial.mp4").write_bytes(b"\x00" * 100)
    second = export(out, 4, SETTINGS, progress=False)
    assert second.complete and second.rendered == 3 and second.skipped == 1
    assert (out / MANIFEST).read_text() == (unbroken / MANIFEST).read_text()
    assert _videos(out) == _videos(unbroken)
    assert not list((out / "clips").glob(".*"))  # the killed run's temp file is gone
    # a finished export: says so, renders nothing, rewrites nothing
    stamp = (out / MANIFEST).stat().st_mtime_ns
    third = export(out, 4, SETTINGS, progress=True)
    assert third.rendered == 0 and third.complete
    assert "nothing to do" in capsys.readouterr().out
    assert (out / MANIFEST).stat().st_mtime_ns == stamp


def test_deleted_video_is_rendered_again(unbroken, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(unbroken, out)
    victim = sorted((out / "clips").glob("*.mp4"))[2]
    victim.unlink()
    res = export(out, 4, SETTINGS, progress=False)
    assert res.rendered == 1 and _videos(out) == _videos(unbroken)


def test_other_settings_in_same_dir_are_refused(unbroken, tmp_path):
    out = tmp_path / "copy2"
    shutil.copytree(unbroken, out)
    other = ExportSettings(frames=8, height=32, width=48, fps=12.0, split="val", seed_offset=5)
    with pytest.raises(ValueError, match="other settings"):
        export(out, 4, other, progress=False)


def test_bad_export_settings():
    with pytest.raises(ValueError, match="unknown split"):
        ExportSettings(8, 32, 48, 10.0, "dev")
    with pytest.raises(ValueError, match="fps"):
        ExportSettings(8, 32, 48, -1.0, "train")
    with pytest.raises(ValueError, match="height"):
        ExportSettings(8, 4, 48, 10.0, "train")


def test_cli_preview_and_errors(tmp_path, capsys):
    from cosmos_lite.cli import main

    png = tmp_path / "sheet.png"
    assert main(["scenes", "preview", "--out", str(png), "--n", "2", "--size", "32x48", "--columns", "2"]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["scenes", "export", "--n", "1", "--out", str(tmp_path / "x"), "--fps", "-2"]) == 2
    assert "fps must be a positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scenes", "export", "--n", "1", "--out", str(tmp_path / "y"), "--size", "big"])


def test_png_writer_round_trips_through_pyav(tmp_path):
    import av

    from cosmos_lite.scenes.preview import write_png

    img = np.random.default_rng(0).integers(0, 256, (21, 35, 3), dtype=np.uint8)
    path = write_png(tmp_path / "x.png", img)
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert np.array_equal(frame, img)


def test_behaviour_and_salient_are_export_settings(tmp_path):
    from cosmos_lite.scenes import Scenario

    mixed = ExportSettings(frames=8, height=32, width=48, fps=10.0, split="train", seed_offset=3,
                           behaviour="mix", salient=True)
    out = tmp_path / "mixed"
    assert export(out, 3, mixed, progress=False).complete
    saved = json.loads((out / "export.json").read_text())
    assert saved["behaviour"] == "mix" and saved["salient"] is True
    rows = [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]
    for i, r in enumerate(rows):
        sc = Scenario.from_dict(r["scenario"])
        assert sc == Scenario.sample(3 + i, split="train", duration=0.8, behaviour="mix", salient=True)
        assert r["behaviour"] == sc.ego_behaviour.kind
        assert len(r["event_active"]) == 8 and all(isinstance(x, bool) for x in r["event_active"])
    # a resume with other settings is refused, naming what differs
    for changed, words in (({"behaviour": "keep"}, "'behaviour': ('mix', 'keep')"),
                           ({"salient": False}, "'salient': (True, False)")):
        other = dataclasses.replace(mixed, **changed)
        with pytest.raises(ValueError, match=re.escape(words)):
            export(out, 3, other, progress=False)


def test_old_export_settings_resume_as_the_defaults(unbroken, tmp_path):
    out = tmp_path / "old"
    shutil.copytree(unbroken, out)
    # an export.json written before behaviours existed lacks the keys: it means keep, not salient
    saved = json.loads((out / "export.json").read_text())
    del saved["behaviour"], saved["salient"]
    (out / "export.json").write_text(json.dumps(saved))
    res = export(out, 4, SETTINGS, progress=False)
    assert res.complete and res.rendered == 0
    rows = [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]
    assert {r["behaviour"] for r in rows} == {"keep"}
    assert all("ego_behaviour" not in r["scenario"] for r in rows)


def test_bad_behaviour_export_setting():
    with pytest.raises(ValueError, match="unknown ego behaviour 'zigzag'; choose one of keep"):
        ExportSettings(8, 32, 48, 10.0, "train", behaviour="zigzag")
    with pytest.raises(ValueError, match="salient must be true or false"):
        ExportSettings(8, 32, 48, 10.0, "train", salient=1)


def test_export_cli_behaviour_and_salient_flags(tmp_path, capsys):
    import json

    from cosmos_lite.cli import main

    d = tmp_path / "ex"
    assert main(["scenes", "export", "--n", "1", "--frames", "8", "--size", "32x48", "--out", str(d),
                 "--behaviour", "mix", "--salient"]) == 0
    settings = json.loads((d / "export.json").read_text())
    assert settings["behaviour"] == "mix" and settings["salient"] is True
    assert main(["scenes", "export", "--n", "1", "--frames", "8", "--size", "32x48", "--out", str(tmp_path / "z"),
                 "--behaviour", "zigzag"]) == 2
    assert "unknown ego behaviour" in capsys.readouterr().err


def test_raw_export_cli_flag(unbroken, tmp_path, capsys):
    """--raw writes .npz clips of exactly the rendered frames (the lossy mp4's scenes), readable
    by the one video reader, so a tokenize job or a tokenizer --data folder takes them as they are."""
    from cosmos_lite.cli import main
    from cosmos_lite.data.io import read_video
    from cosmos_lite.scenes import render

    d = tmp_path / "raw"
    assert main(["scenes", "export", "--n", "2", "--frames", "8", "--size", "32x48", "--split", "val",
                 "--seed-offset", "5", "--out", str(d), "--raw"]) == 0
    rows = [json.loads(line) for line in (d / MANIFEST).read_text().splitlines()]
    assert [r["file"] for r in rows] == ["clips/val_000000005.npz", "clips/val_000000006.npz"]
    old = [json.loads(line) for line in (unbroken / MANIFEST).read_text().splitlines()][:2]
    assert [r["caption"] for r in rows] == [r["caption"] for r in old]
    settings = dataclasses.replace(SETTINGS, raw=True)
    frames, fps = read_video(d / rows[1]["file"])
    assert fps == 10.0 and np.array_equal(frames, render(settings.scenario(1), 8, (32, 48), 10.0).frames)
    with pytest.raises(ValueError, match="give raw or lossless, not both"):
        ExportSettings(8, 32, 48, 10.0, "train", lossless=True, raw=True)
