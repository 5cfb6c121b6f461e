"""``cosmos-lite edge-cases``: a catalog of events x conditions -> checked clips, a manifest and a gallery."""

from __future__ import annotations

import argparse
import json

from cosmos_lite.cli.types import positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    from cosmos_lite import edge_cases  # the package docstring only: its modules load in the handler

    doc = edge_cases.__doc__
    p = subparsers.add_parser(
        "edge-cases", help="generate a catalog of edge-case clips with QC, a manifest and a gallery",
        description="Generate edge-case clips (events x conditions x ego behaviour) with a world model, check each "
                    "(guardrail, integrity, scene reader, inverse dynamics), resample failures, and write clips, "
                    "manifest.jsonl, contact_sheet.png and index.html. Resumable: rerun the same command after a "
                    "kill. Without --catalog, the built-in catalog (every event under every weather x lighting).",
        epilog=doc[doc.index("Catalog (JSON"):], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=None, help="output directory (required unless --print-catalog)")
    p.add_argument("--catalog", default=None, help="catalog file (.json, or .yaml/.yml); default: the built-in one")
    p.add_argument("--n", type=positive_int, default=None,
                   help="make only the first N items of the catalog's spread order (default: all)")
    p.add_argument("--model", default=None, help="world-model directory (default: the bundled model)")
    p.add_argument("--batch-size", type=positive_int, default=8, help="requests generated together (default 8)")
    p.add_argument("--no-guardrail", action="store_true", help="skip the guardrail (logged; not for production)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--print-catalog", action="store_true",
                   help="print the catalog (default: the built-in one) as JSON with every default filled in, and exit")
    p.set_defaults(func=_edge_cases)


def _edge_cases(args: argparse.Namespace) -> int:
    import logging

    from cosmos_lite.edge_cases.catalog import load_catalog

    catalog = load_catalog(args.catalog)  # checked before any model loads
    if args.print_catalog:
        print(json.dumps(catalog.to_dict(), indent=2))
        return 0
    if args.out is None:
        raise ValueError("--out is required (the output directory)")

    from cosmos_lite.edge_cases.run import run_edge_cases

    logging.basicConfig(level=logging.WARNING, format="cosmos-lite: %(message)s")
    res = run_edge_cases(args.out, catalog, model=args.model, n=args.n, batch_size=args.batch_size,
                         guardrail=not args.no_guardrail, progress=not args.no_progress)
    counts = ", ".join(f"{v} {k}" for k, v in res.counts.items())
    state = f"made {res.made}, kept {res.kept}" if res.made else "nothing to do"
    print(f"{res.out}: {res.total} items ({counts}); {state}; {res.manifest.name}, {res.contact_sheet.name}, "
          f"{res.gallery.name}")
    return 0
