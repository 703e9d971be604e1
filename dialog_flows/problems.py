"""Validation problems that name the place to fix: file, line, flow, step, choice, field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    flow: str | None = None
    step: str | None = None
    choice: str | None = None
    field: str | None = None
    campaign: str | None = None

    def __str__(self) -> str:
        where = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.campaign:
            where.append(f"campaign {self.campaign}")
        if self.flow:
            where.append(f"flow {self.flow}")
        if self.step:
            where.append(f"step '{self.step}'")
        if self.choice:
            where.append(f"choice '{self.choice}'")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


class FlowError(ValueError):
    """One or more problems in flow or campaign files; all are reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
