"""The error tree, the Result mixin's JSON form, and the per-test REELPROOF_HOME."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from reelproof.core import (
    SCHEMA_VERSION,
    ConfigError,
    InputError,
    KeyMaterialError,
    LimitExceededError,
    MediaDecodeError,
    ReelProofError,
    Result,
    UnknownNameError,
    UnsupportedMediaError,
    to_jsonable,
)
from reelproof.core.paths import manifest_store_path
from reelproof.core.paths import reelproof_home as home_folder


@pytest.mark.parametrize(
    ("error", "parents"),
    [
        (MediaDecodeError, (InputError, ReelProofError)),
        (LimitExceededError, (InputError, ReelProofError)),
        (UnsupportedMediaError, (InputError, ReelProofError)),
        (KeyMaterialError, (ConfigError, ReelProofError)),
        (UnknownNameError, (ConfigError, ReelProofError)),
    ],
)
def test_error_tree(error: type[ReelProofError], parents: tuple[type, ...]) -> None:
    assert issubclass(error, parents)
    assert error("x").exit_code == 3


def test_message_carries_the_hint() -> None:
    err = MediaDecodeError("clip.mp4 is truncated", hint="re-download it")
    assert str(err) == "clip.mp4 is truncated (re-download it)"
    assert str(MediaDecodeError("plain")) == "plain"


@dataclass(frozen=True)
class _Reading(Result):
    schema: ClassVar[str] = "test_reading"
    fps: Fraction
    scores: np.ndarray
    p_value: float
    raw: bytes


def test_result_to_dict_is_json_ready_and_tagged() -> None:
    reading = _Reading(Fraction(30000, 1001), np.array([0.5, 1.0]), math.nan, b"\x01\xff")
    body = reading.to_dict()
    assert body["schema"] == f"reelproof.test_reading/{SCHEMA_VERSION}"
    assert body["fps"] == pytest.approx(29.97, abs=1e-3)
    assert body["scores"] == [0.5, 1.0]
    assert body["p_value"] is None  # JSON has no NaN
    assert body["raw"] == "01ff"
    assert json.loads(reading.to_json()) == body
    assert to_jsonable(np.int64(3)) == 3


def test_state_paths_live_under_the_per_test_home(reelproof_home: Path) -> None:
    assert home_folder() == reelproof_home
    assert manifest_store_path().parent == reelproof_home
    assert Path.home() / ".reelproof" != reelproof_home
