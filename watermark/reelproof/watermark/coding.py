"""Payload coding: 64-bit id + 16-bit keyed check, convolutional code, soft Viterbi decoding.

The id either decodes exactly (the keyed check matches) or is reported unreadable: a random
decoding error passes the 16-bit check with probability 2**-16, and a reading is only decoded at
all once the pilot detection is significant.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import numpy.typing as npt

ID_BITS = 64
CHECK_BITS = 16
INFO_BITS = ID_BITS + CHECK_BITS
CONSTRAINT = 7
# Rate 1/3, K=7 generators (as in LTE); free distance 15.
POLYS: tuple[int, ...] = (0o133, 0o171, 0o165)
TAIL = CONSTRAINT - 1
CODED_BITS = (INFO_BITS + TAIL) * len(POLYS)

_N_STATES = 1 << TAIL


def _parity(x: int) -> int:
    return bin(x).count("1") & 1


# For every 7-bit register value r (bit 6 = newest input, bits 0..5 = previous state):
# _OUT[r] = the 3 coded bits, next state = r >> 1.
_OUT = np.array([[_parity(r & g) for g in POLYS] for r in range(2 * _N_STATES)], dtype=np.int8)
_SIGN = (1 - 2 * _OUT).astype(np.float64)  # (128, 3): +1 for a coded 0, -1 for a coded 1


def mac16(mac_key: bytes, id_bits: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The 16-bit keyed check (truncated HMAC-SHA256) of a 64-bit id; (16,) uint8 0/1."""
    data = np.packbits(id_bits.astype(np.uint8)).tobytes()
    tag = hmac.new(mac_key, b"rp-ss-id" + data, hashlib.sha256).digest()[:2]
    return np.unpackbits(np.frombuffer(tag, dtype=np.uint8))


def conv_encode(info: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Encode (INFO_BITS,) 0/1 bits, terminated with zeros; returns (CODED_BITS,) 0/1 uint8."""
    state = 0
    out: list[int] = []
    for bit in [*info.tolist(), *([0] * TAIL)]:
        register = (int(bit) << TAIL) | state
        out.extend(int(v) for v in _OUT[register])
        state = register >> 1
    return np.array(out, dtype=np.uint8)


def viterbi_decode(soft: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """Soft-decision Viterbi decoding of a terminated stream.

    Args:
        soft: (CODED_BITS,) float, positive when a coded 0 is more likely, negative for a 1
            (any scale: the decoder maximises the correlation).

    Returns:
        (INFO_BITS,) uint8 0/1 information bits of the most likely codeword.
    """
    n_steps = soft.shape[0] // len(POLYS)
    per_step = soft.reshape(n_steps, len(POLYS))
    metric = np.full(_N_STATES, -np.inf)
    metric[0] = 0.0
    registers = np.arange(2 * _N_STATES)
    prev_state = registers & (_N_STATES - 1)
    decisions = np.zeros((n_steps, _N_STATES), dtype=np.int8)
    for t in range(n_steps):
        branch = _SIGN @ per_step[t]  # (128,)
        candidates = (metric[prev_state] + branch).reshape(_N_STATES, 2)  # next = r >> 1
        choice = np.argmax(candidates, axis=1)
        decisions[t] = choice
        metric = candidates[np.arange(_N_STATES), choice]
    bits = np.zeros(n_steps, dtype=np.uint8)
    state = 0  # terminated code ends in state 0
    for t in range(n_steps - 1, -1, -1):
        register = (state << 1) | int(decisions[t, state])
        bits[t] = register >> TAIL
        state = register & (_N_STATES - 1)
    return bits[: n_steps - TAIL]


def encode_payload(
    id_bits: npt.NDArray[np.uint8], mac_key: bytes, scramble: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    """id (64,) -> scrambled coded bits (CODED_BITS,) 0/1 uint8."""
    info = np.concatenate([id_bits.astype(np.uint8), mac16(mac_key, id_bits)])
    return conv_encode(info) ^ scramble


def decode_payload(
    soft: npt.NDArray[np.float64], mac_key: bytes, scramble: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8] | None:
    """Soft values of the scrambled coded bits (+ means 0) -> the (64,) id, or None if unverified."""
    unscrambled = soft * (1.0 - 2.0 * scramble.astype(np.float64))
    info = viterbi_decode(unscrambled)
    id_bits = info[:ID_BITS]
    if not np.array_equal(info[ID_BITS:], mac16(mac_key, id_bits)):
        return None
    return id_bits
