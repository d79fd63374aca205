"""Payload: bit strings with exact hex / int / bytes / array round trips."""

from __future__ import annotations

import numpy as np
import pytest

from reelproof.core import InputError, Payload


@pytest.mark.parametrize("text", ["00", "0f", "deadbeef", "0123456789abcdef"])
def test_hex_round_trip(text: str) -> None:
    payload = Payload.from_hex(text)
    assert payload.to_hex() == text
    assert len(payload) == 4 * len(text)


def test_hex_prefix_case_and_explicit_width() -> None:
    assert Payload.from_hex("0xFF").to_hex() == "ff"
    wide = Payload.from_hex("1", n_bits=12)
    assert len(wide) == 12 and wide.to_hex() == "001"


def test_bits_are_most_significant_first() -> None:
    assert Payload.from_int(5, 4).bits == (0, 1, 0, 1)
    assert Payload.from_int(5, 4).to_int() == 5


def test_bytes_and_array_round_trip() -> None:
    payload = Payload.from_bytes(b"\x01\xfe")
    assert payload.to_bytes() == b"\x01\xfe"
    arr = payload.to_array()
    assert arr.dtype == np.uint8 and arr.shape == (16,)
    assert Payload.from_array(arr) == payload


def test_random_payloads_have_the_width_and_differ() -> None:
    a, b = Payload.random(64), Payload.random(64)
    assert len(a) == len(b) == 64
    assert a != b  # 2**-64 chance of a false failure


@pytest.mark.parametrize("text", ["", "xyz", "12 34"])
def test_non_hex_is_refused_with_a_hint(text: str) -> None:
    with pytest.raises(InputError) as info:
        Payload.from_hex(text)
    assert info.value.hint is not None


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(InputError):
        Payload.from_hex("fff", n_bits=8)
    with pytest.raises(InputError):
        Payload.from_int(-1, 8)
    with pytest.raises(InputError):
        Payload((0, 2, 1))
    with pytest.raises(InputError):
        Payload(())
