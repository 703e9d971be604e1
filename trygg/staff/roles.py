"""The three staff roles, each able to do everything the one below it can.

- **viewer** sees aggregated results only (counts with small cells hidden);
- **analyst** also reads free text, tags it and downloads exports;
- **admin** also manages staff accounts, sends återkoppling and reads the audit log.
"""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["viewer", "analyst", "admin"]
ROLES: Final[tuple[Role, ...]] = ("viewer", "analyst", "admin")
ROLE_NAMES: Final[dict[str, str]] = {
    "viewer": "Läsare (bara sammanställda resultat)",
    "analyst": "Analytiker (resultat, fritext, export)",
    "admin": "Administratör (användare, återkoppling, logg)",
}


def is_role(value: str) -> bool:
    return value in ROLES


def may(role: str, needed: Role) -> bool:
    """Whether someone with ``role`` may do what ``needed`` may. An unknown role (a row
    edited by hand) may do nothing."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)  # type: ignore[arg-type,unused-ignore]
