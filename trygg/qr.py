"""Entry links for posters: the source checked against the campaigns, and the link's QR
code as PNG (to print) and SVG (to lay out)."""

from __future__ import annotations

from pathlib import Path

import segno
import typer
from rich.console import Console

from dialog_flows.library import load_library
from trygg.settings import Settings


def require_source(settings: Settings, source: str) -> None:
    """Exit with the list of known sources when ``source`` is not one of them."""
    library = load_library([settings.flows_dir], settings.locales_dir)
    known = {s.id for campaign in library.campaigns for s in campaign.sources}
    if source not in known:
        Console(stderr=True).print(
            f"unknown source '{source}'; known: {', '.join(sorted(known))}", markup=False
        )
        raise typer.Exit(2)


def write_qr(url: str, out_dir: Path, stem: str) -> tuple[Path, Path]:
    # Error correction M survives a scuffed or partly covered poster.
    qr = segno.make(url, error="m")
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
    qr.save(str(png), scale=10, border=4)
    qr.save(str(svg), scale=10, border=4)
    return png, svg
