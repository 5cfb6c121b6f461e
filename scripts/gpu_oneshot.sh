#!/usr/bin/env bash
# The one command a lent GPU machine runs (README "One-shot GPU training"):
#     scripts/gpu_oneshot.sh OUT [oneshot run flags...]
# Needs the prepared caption table (.oneshot/, carried with the checkout) and python3 with torch;
# the package need not be installed (scripts/oneshot_site.py makes the checkout importable).
set -euo pipefail
if [ $# -lt 1 ]; then echo "usage: $0 OUT [oneshot run flags...]" >&2; exit 2; fi
out="$1"; shift
cd "$(dirname "$0")/.."
site="$(mktemp -d "${TMPDIR:-/tmp}/cosmos-site-XXXXXX")"
python3 scripts/oneshot_site.py "$site" >/dev/null
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
# -P: the checkout's own cosmos_lite/ (cwd) must not shadow the site folder's, which holds the mapped folders
exec python3 -P -m cosmos_lite.train.oneshot run --out "$out" "$@"
