"""Generation latency on an idle CPU and with cores taken by other processes, per thread setting.

    python benchmarks/contention.py [--model DIR] [--frames 33] [--busy 0 1] [--threads 1 2]
                                    [--policies active passive] [--denormals keep flush] [--repeat 2]

Each cell is a fresh Python process (OpenMP reads its settings when torch loads) that loads
the world model, warms up with a short clip, then times ``generate`` of a ``--frames`` clip
for every generator the model holds (best of ``--repeat``). ``--busy N`` starts N processes
that spin on one core each for the duration of the cell (a second user's job). ``policies``:
OpenMP's wait policy (``POLICIES``: active = spin while waiting for work, passive = sleep at
once, default = libgomp's own short spin then sleep, short-spin = a 30x shorter spin). ``denormals``: ``torch.set_flush_denormal`` off (keep) or on (flush).

The table: seconds per clip and real-time factor (video seconds / wall seconds) per cell, and
the slowdown against the same thread setting on the idle machine. Latency should degrade no
worse than the CPU share lost: with 1 of 2 cores busy, at most ~2x.

Run it on an otherwise quiet machine (pause training jobs: ``kill -STOP PID`` / ``kill -CONT
PID``); what else runs lands in the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time

CELL = r"""
import json, sys, time
import torch
if sys.argv[2] == "flush":
    torch.set_flush_denormal(True)
from cosmos_lite.world import WorldModel
wm = WorldModel.from_pretrained(None if sys.argv[1] == "-" else sys.argv[1], guardrail=None)
frames, repeat = int(sys.argv[3]), int(sys.argv[4])
out = {"threads": torch.get_num_threads()}
for name in wm.generators:
    spec = wm.config.spec(name)
    wm.generate("night, heavy rain, a pedestrian steps out", num_frames=9, seed=0,
                generator=name, progress=False)  # warm-up: text encoder, kernels
    best = float("inf")
    for r in range(repeat):
        t = time.perf_counter()
        wm.generate("night, heavy rain, a pedestrian steps out", num_frames=frames, seed=r, generator=name,
                    progress=False)
        best = min(best, time.perf_counter() - t)
    out[name] = {"seconds": best, "realtime_factor": (frames / spec.fps) / best}
print("RESULT " + json.dumps(out))
"""


def spin(stop) -> None:
    while not stop.is_set():
        pass


POLICIES = {  # OpenMP wait settings: environment variables of each named policy
    "active": {"OMP_WAIT_POLICY": "ACTIVE"},  # spin until there is work
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},  # sleep at once
    "default": {},  # libgomp's own: spin a while (GOMP_SPINCOUNT 300 000), then sleep
    "short-spin": {"GOMP_SPINCOUNT": "10000"},  # spin ~30x shorter, then sleep
}


def cell(model: str, frames: int, repeat: int, threads: int, policy: str, denormals: str, busy: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(OMP_NUM_THREADS=str(threads), **POLICIES[policy])
    if policy == "default":
        env["OMP_WAIT_POLICY"] = ""  # present but empty: cosmos_lite's setdefault leaves it, libgomp ignores it
    stop = mp.Event()
    spinners = [mp.Process(target=spin, args=(stop,), daemon=True) for _ in range(busy)]
    for p in spinners:
        p.start()
    try:
        run = subprocess.run([sys.executable, "-c", CELL, model, denormals, str(frames), str(repeat)], env=env,
                             capture_output=True, text=True, timeout=3600)
    finally:
        stop.set()
        for p in spinners:
            p.join()
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")]
    if run.returncode or not lines:
        raise RuntimeError(f"cell threads={threads} policy={policy} busy={busy} failed:\n{run.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="-", help="world-model directory (default: bundled)")
    ap.add_argument("--frames", type=int, default=33)
    ap.add_argument("--busy", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--policies", nargs="+", default=["default", "passive"], choices=sorted(POLICIES))
    ap.add_argument("--denormals", nargs="+", default=["keep"], choices=["keep", "flush"])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.frames} frames per clip; best of {args.repeat}\n")
    results = {}
    for threads, policy, den, busy in itertools.product(args.threads, args.policies, args.denormals, args.busy):
        t = time.perf_counter()
        results[threads, policy, den, busy] = cell(args.model, args.frames, args.repeat, threads, policy, den, busy)
        print(f"  cell threads={threads} policy={policy} denormals={den} busy={busy}: "
              f"{time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    names = [k for k in next(iter(results.values())) if k != "threads"]
    print("| generator | threads | OMP_WAIT_POLICY | denormals | busy cores | s / clip | real-time factor | "
          "slowdown vs idle |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        for (threads, policy, den, busy), r in results.items():
            idle = results.get((threads, policy, den, 0))
            slow = r[name]["seconds"] / idle[name]["seconds"] if idle else float("nan")
            print(f"| {name} | {threads} | {policy} | {den} | {busy} | {r[name]['seconds']:.2f} | "
                  f"{r[name]['realtime_factor']:.2f} | {slow:.2f}x |")


if __name__ == "__main__":
    main()
