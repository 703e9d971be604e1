"""Contact addresses at rest: encrypted (Fernet), and found by a keyed hash (HMAC-SHA256).

Both keys derive from TRYGG_SECRET_KEY, so a copy of the database alone reveals no phone
number, chat id or PSID. The hash lets the inbound path find a contact without
decrypting every row; keyed, so it cannot be reversed by hashing all phone numbers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class AddressVault:
    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ValueError("TRYGG_SECRET_KEY must be at least 16 characters")
        master = secret_key.encode("utf-8")
        self._lookup_key = hmac.new(master, b"trygg address lookup v1", hashlib.sha256).digest()
        encryption_key = hmac.new(master, b"trygg address encryption v1", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(encryption_key))

    def lookup_hash(self, channel: str, address: str) -> str:
        message = f"{channel}\x00{address}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    def encrypt(self, address: str) -> str:
        return self._fernet.encrypt(address.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ValueError(
                "the address cannot be decrypted: was TRYGG_SECRET_KEY changed?"
            ) from None


def sqlite_secret_file(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".secret")


def load_or_create_secret(path: Path) -> str:
    """On SQLite the key is generated once and kept beside the database (CONTRACT.md)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # Exclusive create, owner-only: never overwrite or widen an existing key.
        with path.open("x", encoding="utf-8") as handle:
            path.chmod(0o600)
            handle.write(key + "\n")
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    return key
