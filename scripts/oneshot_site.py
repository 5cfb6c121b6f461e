"""Make the checkout importable as the installed package, without pip, network or a build.

    python3 scripts/oneshot_site.py SITE && PYTHONPATH=SITE python3 -m cosmos_lite ...

pyproject.toml maps three top-level folders into the package (``cosmos_lite.tokenizer ->
tokenizer/`` ...), so ``PYTHONPATH=.`` does not work. This writes ``SITE/cosmos_lite/``: a link
to every entry of ``cosmos_lite/`` plus one per mapped folder, read from pyproject's
``[tool.setuptools.package-dir]``. Nothing is copied (bundled weights included) and the
checkout is not written to; child processes (spawned pools, DataLoader workers) see the same
package through the inherited PYTHONPATH. Used by scripts/gpu_oneshot.sh.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def build(site: Path) -> Path:
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    pkg = site / "cosmos_lite"
    shutil.rmtree(pkg, ignore_errors=True)
    pkg.mkdir(parents=True)
    for entry in (ROOT / mapping["cosmos_lite"]).iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for name, folder in mapping.items():
        if name.count(".") == 1:  # cosmos_lite.<sub> -> <folder>
            link = pkg / name.split(".", 1)[1]
            if link.exists() or link.is_symlink():
                raise SystemExit(f"{link}: cosmos_lite/ already has an entry that pyproject maps to {folder}/")
            link.symlink_to(ROOT / folder)
    return pkg


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python3 scripts/oneshot_site.py SITE_DIR")
    print(build(Path(sys.argv[1]).resolve()))
