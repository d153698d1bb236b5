"""The one source of identifiers: type-prefixed base62 strings, reproducible from a seed."""

from __future__ import annotations

import hashlib
import random
import secrets
from math import floor

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Every prefix the API hands out; asking for another is a programming error.
PREFIXES = frozenset({"bk", "rm", "mem", "co", "ws", "evt", "req", "ch", "re", "whsec"})

# Secrets are long because they are meant to be unguessable; ids only need to be unique.
_SUFFIX_LENGTH = {"whsec": 32}
_DEFAULT_SUFFIX_LENGTH = 16


class IdSource:
    """Hands out ids like ``bk_7Wq3nLk2Vd9xY4Rt``.

    Each prefix draws from its own stream derived from the seed, so the n-th booking id of a seeded
    run does not depend on how many request ids were generated before it.
    """

    def __init__(self, seed: int | str | None = None) -> None:
        self._seed = seed if seed is not None else secrets.token_hex(16)
        self._streams: dict[str, random.Random] = {}

    @property
    def seed(self) -> int | str:
        return self._seed

    def new(self, prefix: str) -> str:
        if prefix not in PREFIXES:
            raise ValueError(f"unknown id prefix {prefix!r}")
        stream = self._streams.get(prefix)
        if stream is None:
            digest = hashlib.sha256(f"{self._seed}:{prefix}".encode()).digest()
            stream = self._streams[prefix] = random.Random(digest)
        length = _SUFFIX_LENGTH.get(prefix, _DEFAULT_SUFFIX_LENGTH)
        # Exactly what stream.choices(BASE62, k=length) draws, without its per-call set-up.
        draw = stream.random
        return prefix + "_" + "".join([BASE62[floor(draw() * 62.0)] for _ in range(length)])

    def secret_bytes(self, purpose: str, n: int = 32) -> bytes:
        """Seeded random bytes for one named purpose, such as the cursor signing key."""
        digest = hashlib.sha256(f"{self._seed}:secret:{purpose}".encode()).digest()
        return random.Random(digest).randbytes(n)
