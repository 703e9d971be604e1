"""``python -m benchmarks.scale.export_child URL [--no-xlsx]``: one whole-campaign export.

Run in its own process by ``queries.export_in_child`` so that the peak RSS it reports
(the kernel's VmHWM) is the export's alone. Prints one JSON line (``ExportResult``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from benchmarks.scale.memory import peak_rss_mib
from benchmarks.scale.queries import CAMPAIGN, library
from storage.database import open_database
from trygg.export import collect, to_csv, to_xlsx


async def main(database_url: str, xlsx: bool) -> dict[str, object]:
    flows = library()
    database = open_database(database_url)
    try:
        started = time.perf_counter()
        export = await collect(database, flows, campaign=CAMPAIGN)
        collected = time.perf_counter()
    finally:
        await database.dispose()
    peak_collect = peak_rss_mib()
    text = to_csv(export)
    written = time.perf_counter()
    peak_csv = peak_rss_mib()
    csv_mib = len(text.encode("utf-8")) / 2**20
    del text
    xlsx_seconds = peak_xlsx = None
    if xlsx:
        before = time.perf_counter()
        to_xlsx(export)
        xlsx_seconds = time.perf_counter() - before
        peak_xlsx = peak_rss_mib()
    return {
        "rows": len(export.rows),
        "collect_seconds": collected - started,
        "csv_seconds": written - collected,
        "xlsx_seconds": xlsx_seconds,
        "csv_mib": csv_mib,
        "peak_collect_mib": peak_collect,
        "peak_csv_mib": peak_csv,
        "peak_xlsx_mib": peak_xlsx,
    }


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], "--no-xlsx" not in sys.argv[2:]))
    print(json.dumps(result))
