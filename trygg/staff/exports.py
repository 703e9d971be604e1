"""Downloading the exports, each logged (analyst and up)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
