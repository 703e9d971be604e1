"""Everything a running Trygg process shares: settings, flows, database, address vault."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from dialog_flows.library import Library, load_library
from storage.crypto import AddressVault, load_or_create_secret, sqlite_secret_file
from storage.database import Database, open_database, sqlite_path
from trygg.settings import Settings


class ConfigurationError(RuntimeError):
    """Something in the environment keeps Trygg from starting; the message says what."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Runtime:
    settings: Settings
    library: Library
    database: Database
    vault: AddressVault
    clock: Callable[[], dt.datetime] = field(default=utc_now)

    async def close(self) -> None:
        await self.database.dispose()


def secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = sqlite_path(settings.database_url)
    if path is None:
        raise ConfigurationError(
            "TRYGG_SECRET_KEY is required with PostgreSQL: it encrypts contact addresses. "
            "Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return load_or_create_secret(sqlite_secret_file(path))


def build_runtime(settings: Settings, *, clock: Callable[[], dt.datetime] = utc_now) -> Runtime:
    """Load and check the flows, open the database and the vault. Raises FlowError or
    ConfigurationError with a message for the person starting the service."""
    library = load_library([settings.flows_dir], settings.locales_dir)
    if not library.campaigns:
        raise ConfigurationError(f"no campaign file in {settings.flows_dir}")
    vault = AddressVault(secret_key(settings))
    return Runtime(settings, library, open_database(settings.database_url), vault, clock)
