"""``GET /media/{name}``: the images flows refer to (place photos), from the flow folder.

Providers fetch them by URL (Telegram's sendPhoto), so they are public, like posters.
Only image files directly in the flow folder are served: no paths, no other files.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from dialog_flows.library import IMAGE_NAME

router = APIRouter()


@router.get("/media/{name}")
async def media(name: str, request: Request) -> FileResponse:
    folder = request.app.state.runtime.settings.flows_dir
    path = folder / name
    if not IMAGE_NAME.match(name) or not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
