"""Tokens and NIPs.

Terminal and session tokens are 32 random bytes: a plain SHA-256 is enough to store them,
since nobody can guess such a token. NIPs are short and guessable, so they get argon2id (with
OWASP's minimum cost, to keep bulk imports reasonable) plus the lockout in the kiosk login.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_nip(nip: str) -> str:
    return _hasher.hash(nip)


def verify_nip(nip_hash: str, nip: str) -> bool:
    try:
        return _hasher.verify(nip_hash, nip)
    except (VerificationError, InvalidHashError):
        return False
