"""Återkoppling pages: compose per language, preview, test send, send, progress, report (admin)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
