"""Corrupted and odd inputs: verify reports or raises a ReelProofError, never anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelproof.core.errors import ReelProofError
from reelproof.provenance import ProvenanceSigner, SignResult, TrustConfig, sign, verify

from .conftest import make_spec


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.floats(0.05, 1.0)),
)
def test_random_corruption_never_crashes(
    edits: list[tuple[float, int]],
    cut: float | None,
    signed_clip: SignResult,
    trust: TrustConfig,
    tmp_path: Path,
) -> None:
    data = bytearray(signed_clip.dst.read_bytes())
    for where, value in edits:
        data[min(int(where * len(data)), len(data) - 1)] = value
    if cut is not None:
        data = data[: max(1, int(cut * len(data)))]
    bad = tmp_path / "fuzzed.mp4"
    bad.write_bytes(bytes(data))
    try:
        report = verify(bad, trust)
    except ReelProofError:
        return
    assert report.state in ("trusted", "valid_untrusted", "invalid", "absent")
    if report.state in ("trusted", "valid_untrusted"):
        assert not report.failure_codes or report.failure_codes == ("signingCredential.untrusted",)


@pytest.mark.parametrize(
    ("name", "fmt", "codec"), [("clip.mov", "mov", "libx264"), ("clip.avi", "avi", "mpeg4")]
)
def test_mov_and_avi_sign_and_verify(  # type: ignore[no-untyped-def]
    name: str,
    fmt: str,
    codec: str,
    make_video,
    signer: ProvenanceSigner,
    trust: TrustConfig,
    tmp_path: Path,
) -> None:
    src = make_video(name, fmt=fmt, codec=codec, options={})
    signed = sign(src, tmp_path / f"signed_{name}", make_spec(name), signer)
    report = verify(signed.dst, trust)
    assert report.state == "trusted", report.failure_codes
    if fmt == "mov":
        assert signed.mime == "video/quicktime"
    else:
        assert signed.mime == "video/x-msvideo"
