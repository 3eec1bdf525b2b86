"""Password hashing (Argon2id, argon2-cffi's defaults) and the settable password rules."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chainatlas.errors import UserError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_password_rules(password: str, min_length: int, min_classes: int) -> None:
    """Raise a UserError naming the rule the password breaks."""
    if len(password) < min_length:
        raise UserError(
            f"密码至少 {min_length} 个字符", f"the password needs at least {min_length} characters"
        )
    if character_classes(password) < min_classes:
        raise UserError(
            f"密码须含以下至少 {min_classes} 类字符：小写字母、大写字母、数字、符号",
            f"the password needs at least {min_classes} of: lower case, upper case, digits, "
            "symbols",
        )


def generate_password(length: int = 16) -> str:
    """A random password that meets any rule up to four classes and `length` characters."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#%"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if character_classes(candidate) == 4:
            return candidate
