"""Reading typed fields from a YAML mapping, collecting a problem for each bad one.

Shared by the flow and campaign readers: every problem names the file and line (from
``yaml_source``), and a mistyped key gets a "did you mean" from the keys allowed there.
"""

from __future__ import annotations

import re
from difflib import get_close_matches
from typing import Any

from dialog_flows.problems import Problem
from dialog_flows.yaml_source import Path, YamlDocument

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hd])\s*$")


class FieldReader:
    def __init__(self, document: YamlDocument, file: str) -> None:
        self.document = document
        self.file = file
        self.flow_id: str | None = None  # the flow's or the campaign's id, once read
        self.problems: list[Problem] = []

    def problem(
        self,
        path: Path,
        message: str,
        *,
        step: str | None = None,
        choice: str | None = None,
        field: str | None = None,
    ) -> None:
        self.problems.append(
            Problem(
                file=self.file,
                line=self.document.line_of(path),
                message=message,
                flow=self.flow_id,
                step=step,
                choice=choice,
                field=field,
            )
        )

    def check_keys(
        self, data: dict[str, Any], allowed: set[str], path: Path, what: str, **where: Any
    ) -> None:
        for key in data:
            if key not in allowed:
                hint = get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                allowed_list = ", ".join(sorted(allowed))
                self.problem(
                    (*path, key),
                    f"unknown key '{key}' in {what}{suggestion}; allowed: {allowed_list}",
                    field=key,
                    **where,
                )

    def text(
        self, data: dict[str, Any], key: str, path: Path, *, required: bool = True, **where: Any
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(path, f"'{key}' is missing", field=key, **where)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem((*path, key), f"'{key}' must be text", field=key, **where)
            return None
        value = str(value).strip()
        if not value and required:
            self.problem((*path, key), f"'{key}' is empty", field=key, **where)
            return None
        return value

    def integer(
        self, data: dict[str, Any], key: str, path: Path, *, required: bool = False, **where: Any
    ) -> int | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(path, f"'{key}' is missing", field=key, **where)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem((*path, key), f"'{key}' must be a whole number", field=key, **where)
            return None
        return value

    def boolean(
        self, data: dict[str, Any], key: str, path: Path, default: bool, **where: Any
    ) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem((*path, key), f"'{key}' must be true or false", field=key, **where)
            return default
        return value

    def hours(self, data: dict[str, Any], key: str, default: float) -> float:
        value = data.get(key)
        if value is None:
            return default
        if value == "never":
            return float("inf")
        match = DURATION.match(str(value))
        if not match:
            self.problem((key,), f"'{key}' must look like 48h or 7d, or be never", field=key)
            return default
        amount = float(match.group(1))
        return amount * 24 if match.group(2) == "d" else amount

    # -- the flow ------------------------------------------------------------------------
