"""``python -m benchmarks [--only NAME ...] [--size quick|full] [--postgres URL]``.

Runs the benchmarks one after another (never two at once: they would measure each
other), prints one table, and writes the figures with the machine's description to
``benchmarks/results/latest.json`` for docs/benchmarks.md, after each benchmark. One that
fails is reported (and the exit status is 1), and the others still run. ``--size quick`` is a smoke
run in minutes; ``full`` is what docs/benchmarks.md reports (about 85 minutes).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from benchmarks.figures import Figure, print_table, save

# name -> module with ``run(size: str, postgres_url: str | None) -> list[Figure]``
BENCHMARKS = {
    "inbound": "benchmarks.inbound",
    "peer": "benchmarks.peer",
    "scale": "benchmarks.scale",
    "broadcast": "benchmarks.broadcast",
    "cost": "benchmarks.cost",
}
RESULTS = Path(__file__).parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), default=None)
    parser.add_argument("--size", choices=("quick", "full"), default="full")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRYGG_TEST_POSTGRES_URL"),
        help="a PostgreSQL URL (scripts/benchmark starts a throwaway cluster and sets it)",
    )
    options = parser.parse_args(argv)
    figures: list[Figure] = []
    failed = False
    for name in options.only or list(BENCHMARKS):
        started = time.monotonic()
        print(f"== {name} ({options.size})", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(BENCHMARKS[name])
            figures.extend(module.run(options.size, options.postgres))
        except Exception:  # the others still run, and the figures so far are kept
            traceback.print_exc()
            figures.append(Figure(name, "failed", 0, "", met=False, note="see the log above"))
            failed = True
        print(f"   {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        save(figures, RESULTS)  # after each: a later failure or Ctrl-C keeps these
    print_table(figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
