"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's advice), and
the rule a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; a cap keeps one login from costing seconds
_HASHER = PasswordHasher()
# Verified against when the user name is unknown, so that a wrong name takes as long as
# a wrong password and the timing does not tell which names exist.
_DUMMY = _HASHER.hash("not-a-password-of-anyone")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused, in Swedish for the staff page; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Lösenordet måste ha minst {MIN_LENGTH} tecken."
    if len(password) > MAX_LENGTH:
        return f"Lösenordet får ha högst {MAX_LENGTH} tecken."
    if username and username.lower() in password.lower():
        return "Lösenordet får inte innehålla användarnamnet."
    if len(set(password)) < 5:
        return "Lösenordet är för enkelt: använd fler olika tecken."
    return None
