"""Free-text answers, filtered and tagged with themes (analyst and up)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
