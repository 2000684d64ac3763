"""Tokens and NIPs.

Terminal and session tokens are 32 random bytes: a plain SHA-256 is enough to store them,
since nobody can guess such a token. NIPs are short and guessable, so they get argon2id plus
the lockout in the kiosk login.

The argon2id profile is one of OWASP's equivalent minimums (Password Storage Cheat Sheet:
19 MiB/2 passes, 12 MiB/3, 9 MiB/4, 7 MiB/5 give the same defence, trading memory for passes);
``bench/bench_nip_hash.py`` measures them side by side, and the fastest on two cores is the one
used, since a bulk import of 100,000 members is all hashing. Never go below that table.
A stored hash carries its own parameters, so hashes made with an older profile still verify;
the kiosk login replaces them with the current profile after a right NIP.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

NIP_MEMORY_KIB = 7168
NIP_PASSES = 5
_hasher = PasswordHasher(time_cost=NIP_PASSES, memory_cost=NIP_MEMORY_KIB, parallelism=1)


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


def nip_needs_rehash(nip_hash: str) -> bool:
    """Whether a hash (already verified) was made with another profile than the current one."""
    try:
        return _hasher.check_needs_rehash(nip_hash)
    except InvalidHashError:
        return False
