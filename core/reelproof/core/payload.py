"""Payload: the bits a watermark carries, with a hex round-trip."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelproof.core.errors import InputError


@dataclass(frozen=True)
class Payload:
    """A fixed-length bit string (most significant bit first).

    Attributes:
        bits: tuple of 0/1 ints.
    """

    bits: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.bits:
            raise InputError("a payload needs at least one bit")
        if any(b not in (0, 1) for b in self.bits):
            raise InputError("payload bits must be 0 or 1")

    @classmethod
    def from_hex(cls, text: str, n_bits: int | None = None) -> Payload:
        """Parse hex (``0x`` prefix optional); ``n_bits`` defaults to 4 per hex digit."""
        cleaned = text.strip().lower().removeprefix("0x")
        if not cleaned or any(c not in "0123456789abcdef" for c in cleaned):
            raise InputError(
                f"payload {text!r} is not hexadecimal",
                hint="give hex digits, e.g. 0123456789abcdef",
            )
        width = n_bits if n_bits is not None else 4 * len(cleaned)
        value = int(cleaned, 16)
        if value >= 1 << width:
            raise InputError(f"payload {text!r} does not fit in {width} bits")
        return cls.from_int(value, width)

    @classmethod
    def from_int(cls, value: int, n_bits: int) -> Payload:
        """Big-endian bits of a non-negative integer."""
        if value < 0 or value >= 1 << n_bits:
            raise InputError(f"{value} does not fit in {n_bits} bits")
        return cls(tuple((value >> (n_bits - 1 - i)) & 1 for i in range(n_bits)))

    @classmethod
    def from_bytes(cls, data: bytes) -> Payload:
        """Bits of ``data``, 8 per byte."""
        return cls.from_int(int.from_bytes(data, "big"), 8 * len(data))

    @classmethod
    def random(cls, n_bits: int = 64) -> Payload:
        """A fresh random payload from the OS's cryptographic RNG."""
        return cls.from_int(secrets.randbits(n_bits), n_bits)

    @classmethod
    def from_array(cls, bits: npt.ArrayLike) -> Payload:
        """From a 1-D array of 0/1 values."""
        arr = np.asarray(bits).astype(np.int64).ravel()
        return cls(tuple(int(b) for b in arr))

    def __len__(self) -> int:
        return len(self.bits)

    def to_int(self) -> int:
        value = 0
        for b in self.bits:
            value = (value << 1) | b
        return value

    def to_hex(self) -> str:
        """Lower-case hex, zero-padded to ``ceil(n_bits / 4)`` digits, no prefix."""
        return format(self.to_int(), f"0{(len(self.bits) + 3) // 4}x")

    def to_bytes(self) -> bytes:
        return self.to_int().to_bytes((len(self.bits) + 7) // 8, "big")

    def to_array(self) -> npt.NDArray[np.uint8]:
        """(n_bits,) uint8 array of 0/1."""
        return np.array(self.bits, dtype=np.uint8)

    def __str__(self) -> str:
        return self.to_hex()
