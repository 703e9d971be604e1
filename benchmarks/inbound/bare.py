"""The reference: a bare FastAPI app that only parses the same webhook bodies and says 200.

It is served exactly as ``trygg serve`` serves ours (``uvicorn.run`` of an app object, one
process per port, the same log level, so the same access log line per request), so the
difference between the two is what Trygg does with a message: the signature check,
dedup, the engine, the commit and the outbox. Its maximum rate is the ceiling of the
HTTP stack on this machine.

``python -m benchmarks.inbound.bare --host 127.0.0.1 --port 8001``
"""

from __future__ import annotations

import argparse
import json

from fastapi import FastAPI, Request, Response

app = FastAPI(docs_url=None, redoc_url=None)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(status_code=200)


@app.post("/webhooks/telegram")
async def telegram(request: Request) -> Response:
    json.loads(await request.body())
    return Response(status_code=200)


@app.post("/webhooks/sms")
async def sms(request: Request) -> Response:
    form = await request.form()
    _ = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', 200)


@app.post("/webhooks/facebook")
async def facebook(request: Request) -> Response:
    json.loads(await request.body())
    return Response("EVENT_RECEIVED", 200)


def main(argv: list[str] | None = None) -> None:
    import uvicorn  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m benchmarks.inbound.bare")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    options = parser.parse_args(argv)
    uvicorn.run(app, host=options.host, port=options.port, log_level="info")


if __name__ == "__main__":
    main()
