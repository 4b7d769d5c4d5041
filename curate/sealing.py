"""Record keys and fingerprints as committed files store them: salted and slow to reverse.

A record key is a fast hash of the record's canonical JSON (or its id), so a record that is only a
short value (`{"text": "536-22-8714"}`) could be found again from its key by hashing every SSN,
in minutes. Files meant to be committed (the baseline, decisions files) therefore store
`seal.key(key)`: scrypt over the key with a salt kept in the file itself (portable: any machine
that reads the file can match records against it) and a cost that makes each guess take about
half a millisecond of one core, so the 10^9 SSNs take days, not minutes. Fingerprints are stored
as `seal.fingerprint(sealed_key, fingerprint)`, so they cost the same to reverse. The scrypt runs
only where a committed file is written or matched, on the keys that file is about.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

# scrypt cost: n x r x 128 bytes of memory (256 KB) and ~0.5 ms per key on one core (measured in
# tests/test_sealing.py, docs/security.md). Files may ask for more, never for less.
SCRYPT_N = 2**8
SCRYPT_R = 8
SCRYPT_P = 1
# at most 4x the default cost (1 MB, ~2-3 ms a key): a hostile file cannot make matching take hours
_MAX_N, _MAX_R, _MAX_P = 2**10, SCRYPT_R, SCRYPT_P
SEALED_BYTES = 12  # 96 bits: no accidental collisions between the keys of one dataset


class SealSpec(BaseModel):
    """How a committed file's keys were sealed, as stored in the file (validated when loading)."""

    model_config = ConfigDict(extra="forbid")
    kdf: str = Field("scrypt", pattern="^scrypt$")
    salt: str = Field(pattern="^[0-9a-f]{32,64}$")
    n: int = Field(SCRYPT_N, ge=SCRYPT_N, le=_MAX_N)
    r: int = Field(SCRYPT_R, ge=SCRYPT_R, le=_MAX_R)
    p: int = Field(SCRYPT_P, ge=SCRYPT_P, le=_MAX_P)

    def model_post_init(self, _context: object) -> None:
        if self.n & (self.n - 1):
            raise ValueError("n must be a power of two")


@dataclass(slots=True)
class Seal:
    """One committed file's sealing: its salt and cost, and the keys sealed so far (memoised)."""

    spec: SealSpec
    _memo: dict[str, str] = field(default_factory=dict)

    @classmethod
    def new(cls) -> Seal:
        return cls(SealSpec(salt=secrets.token_hex(16)))

    def to_json(self) -> dict[str, object]:
        return self.spec.model_dump()

    def key(self, key: str) -> str:
        """The sealed form of a record key (hex); slow on purpose, memoised per process."""
        found = self._memo.get(key)
        if found is None:
            s = self.spec
            raw = hashlib.scrypt(
                key.encode("utf-8", "surrogatepass"),
                salt=bytes.fromhex(s.salt),
                n=s.n,
                r=s.r,
                p=s.p,
                maxmem=256 * s.n * s.r * s.p + (1 << 20),
                dklen=SEALED_BYTES,
            )
            found = self._memo[key] = raw.hex()
        return found

    def keys(self, keys: Iterable[str]) -> dict[str, str]:
        """Many keys at once: scrypt releases the GIL, so two threads use two cores."""
        keys = list(keys)
        todo = list(dict.fromkeys(k for k in keys if k not in self._memo))
        if len(todo) > 64:
            with ThreadPoolExecutor(max_workers=2) as pool:
                for k, v in zip(todo, pool.map(self._one, todo), strict=True):
                    self._memo[k] = v
        return {k: self.key(k) for k in keys}

    def _one(self, key: str) -> str:
        return Seal(self.spec).key(key)

    def fingerprint(self, sealed_key: str, fingerprint: str) -> str:
        """A finding's fingerprint bound to its sealed key: as slow to reverse as the key itself."""
        blob = f"{sealed_key}\x1f{fingerprint}".encode()
        return hashlib.blake2b(blob, digest_size=8, key=bytes.fromhex(self.spec.salt)).hexdigest()

    def finding(self, key: str | None, fingerprint: str) -> str:
        return self.fingerprint(self.key(key or ""), fingerprint)


__all__ = ["Seal", "SealSpec", "SCRYPT_N", "SCRYPT_R", "SCRYPT_P"]
