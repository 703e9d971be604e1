"""One measured figure, its reference and target, and the table they are printed in.

Every benchmark returns a list of ``Figure``. A figure carries its own reference (what it
is compared with, measured in the same run on the same machine) so the ratio is never a
number from another day or another machine, and its target where the issue sets one.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Figure:
    benchmark: str  # e.g. "inbound", "peer", "scale", "broadcast", "cost"
    name: str  # what was measured, e.g. "telegram, sqlite, 1 process: messages/s"
    value: float
    unit: str
    reference: float | None = None  # the same measure of the reference, same run
    reference_name: str | None = None
    target: str | None = None  # the target, in words, e.g. ">= 0.5 of bare"
    met: bool | None = None  # None: no target
    note: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.reference is None or self.reference == 0:
            return None
        return self.value / self.reference


def machine() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
    }


def table(figures: Sequence[Figure], title: str = "Trygg benchmarks") -> Table:
    grid = Table(title=title, show_lines=False)
    for column in ("benchmark", "measure", "value", "reference", "ratio", "target", "met"):
        grid.add_column(column, overflow="fold")
    for figure in figures:
        ratio = figure.ratio
        grid.add_row(
            figure.benchmark,
            figure.name,
            f"{_number(figure.value)} {figure.unit}",
            "" if figure.reference is None else
            f"{_number(figure.reference)} ({figure.reference_name or 'reference'})",
            "" if ratio is None else f"{ratio:.2f}",
            figure.target or "",
            {None: "", True: "yes", False: "NO"}[figure.met],
        )  # fmt: skip
    return grid


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e12:
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}".replace(",", " ")


def print_table(figures: Sequence[Figure]) -> None:
    Console(width=max(160, Console().width)).print(table(figures))


def save(figures: Sequence[Figure], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"machine": machine(), "figures": [asdict(f) | {"ratio": f.ratio} for f in figures]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
