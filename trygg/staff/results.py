"""Live results: participation, completion, choices, place ratings, demographics (viewer and up)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
