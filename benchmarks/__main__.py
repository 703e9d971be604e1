"""``python -m benchmarks [--only NAME ...] [--size quick|full] [--postgres URL]``.

Runs the benchmarks one after another (never two at once: they would measure each
other), prints one table, and writes the figures with the machine's description to
``benchmarks/results/latest.json`` for docs/benchmarks.md. ``--size quick`` is a smoke
run in minutes; ``full`` is what docs/benchmarks.md reports (about an hour).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
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
    for name in options.only or list(BENCHMARKS):
        started = time.monotonic()
        print(f"== {name} ({options.size})", file=sys.stderr, flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        figures.extend(module.run(options.size, options.postgres))
        print(f"   {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    print_table(figures)
    save(figures, RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
