"""``cosmos-lite`` command line: a thin typed wrapper over the Python API.

Each command family lives in its own module exposing ``register(subparsers)``,
which only declares arguments (cheap) and sets ``func`` to a handler that does
the heavy imports itself, so ``cosmos-lite --help`` starts instantly.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that contribute subcommands, in help order.
_COMMAND_MODULES = (
    "cosmos_lite.cli.generate",
    "cosmos_lite.cli.edge_cases",
    "cosmos_lite.cli.scenes",
    "cosmos_lite.cli.tokenize",
    "cosmos_lite.cli.train",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cosmos-lite",
        description="Compact Cosmos-style world models: tokenize, generate, train, evaluate.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _version() -> str:
    from cosmos_lite import __version__

    return f"cosmos-lite {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, FileNotFoundError) as err:
        # User-facing failures: one clear line, no traceback.
        print(f"cosmos-lite {args.command}: error: {err}", file=sys.stderr)
        return 2
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
