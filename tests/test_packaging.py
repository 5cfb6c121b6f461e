"""The package as a user installs and imports it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_light():
    code = (
        "import sys, cosmos_lite as cl; cl.__version__; "
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'cv2', 'cosmos_lite.generators', "
        "'cosmos_lite.guardrail', 'cosmos_lite.tokenizer') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_openmp_threads_sleep_while_waiting_unless_the_user_says_otherwise():
    """Spinning OpenMP threads made generation ~16x slower beside one busy core (benchmarks/contention.py)."""
    import os

    code = "import os, cosmos_lite, torch; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "PASSIVE"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**env, "OMP_WAIT_POLICY": "ACTIVE"})
    assert out.stdout.strip() == "ACTIVE"


def test_lazy_public_api_resolves():
    import cosmos_lite as cl

    for name in cl.__all__:
        assert getattr(cl, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cl.nope  # noqa: B018


def test_pyproject_lists_every_package():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    mapping = {"cosmos_lite": "cosmos_lite", "tokenizer": "cosmos_lite.tokenizer",
               "generators": "cosmos_lite.generators", "guardrail": "cosmos_lite.guardrail"}
    found = set()
    for top, pkg in mapping.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([pkg, *rel.parts]))
    assert found == listed, f"missing from pyproject: {sorted(found - listed)}; stale: {sorted(listed - found)}"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^(python -m pytest.*)$", readme, flags=re.M)
    assert commands, "README must show the test command"
    assert commands[0] in ci


def test_cli_help_lists_commands(capsys):
    from cosmos_lite.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "scenes" in capsys.readouterr().out
