"""The campaign overview: flows, languages, sources, entry points, posters (viewer up)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
