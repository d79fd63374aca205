"""Bounded fuzzing of everything that parses untrusted bytes (runs in CI on every push).

Each target gets mutated real files (byte flips, splices, truncations, inserted boxes) or raw
random bytes from hypothesis, and must either answer or raise a ``ReelProofError`` (the request
parser: a ``ProblemError``) — never another exception, never a hang. The example counts keep the
whole module around a minute on two cores; ``REELPROOF_FUZZ_EXAMPLES`` raises them for longer
runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelproof.core.errors import ReelProofError
from reelproof.core.io import decode_still, probe, probe_still
from reelproof.core.io.boxes import check_structure

EXAMPLES = int(os.environ.get("REELPROOF_FUZZ_EXAMPLES", "300"))
SLOWEST_S = 10.0  # any single input slower than this is a hang for our purposes
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # timing is asserted explicitly, with a margin for a loaded machine
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # reproducible in CI; new seeds come with REELPROOF_FUZZ_EXAMPLES
    database=None,
)


@st.composite
def mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few structure-aware edits: flips, truncation, splices, box headers."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "box", "size"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "box":
            size = draw(st.sampled_from([0, 1, 7, 8, 16, 2**31 - 1, 2**32 - 1]))
            name = draw(st.sampled_from([b"moov", b"trak", b"uuid", b"meta", b"mdat", b"free"]))
            data[at:at] = struct.pack(">I4s", size, name)
        elif kind == "size" and len(data) >= at + 4:
            data[at : at + 4] = struct.pack(">I", draw(st.integers(0, 2**32 - 1)))
    return bytes(data)


def _run_bounded(fn: Callable[[], object]) -> None:
    start = time.monotonic()
    with contextlib.suppress(ReelProofError):  # a clear refusal answers a hostile file
        fn()
    assert time.monotonic() - start < SLOWEST_S


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory, bikes_mp4: Path) -> dict[str, bytes]:
    """Small real files to mutate: an MP4, a signed MP4, a JPEG and a PNG."""
    from PIL import Image

    from reelproof.core.io import read_clip, write_clip
    from reelproof.provenance import ManifestSpec, init_dev_pki, load_signer, sign

    folder = tmp_path_factory.mktemp("seeds")
    clip = read_clip(bikes_mp4, max_frames=6)
    small = clip.with_frames(clip.frames[:, :64, :96].copy())
    write_clip(small, folder / "small.mp4")
    pki = init_dev_pki(folder / "pki")
    sign(folder / "small.mp4", folder / "signed.mp4", ManifestSpec(title="s"),
         load_signer(pki.chain_pem, pki.key_pem))  # fmt: skip
    Image.fromarray(small.frames[0]).save(folder / "still.jpg", quality=80)
    Image.fromarray(small.frames[1]).save(folder / "still.png")
    return {
        name: (folder / name).read_bytes()
        for name in ("small.mp4", "signed.mp4", "still.jpg", "still.png")
    }


def _write(tmp: Path, data: bytes, suffix: str) -> Path:
    path = tmp / f"case{suffix}"
    path.write_bytes(data)
    return path


@given(data=st.data())
@FUZZ
def test_structure_walker(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    raw = data.draw(st.binary(max_size=4096) | mutations(_BMFF_HEAD))
    path = _write(tmp_path_factory.mktemp("walk"), raw, ".mp4")
    _run_bounded(lambda: check_structure(path))


_BMFF_HEAD = struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 0) + struct.pack(">I4s", 24, b"moov")
_BMFF_HEAD += struct.pack(">I4s", 16, b"trak") + struct.pack(">I4s", 8, b"free")


def test_video_probe(seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> None:
    @given(raw=mutations(seeds["small.mp4"]))
    @FUZZ
    def run(raw: bytes) -> None:
        path = _write(tmp_path_factory.mktemp("probe"), raw, ".mp4")
        _run_bounded(lambda: probe(path))

    run()


def test_credentials_reader(
    seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from reelproof.provenance import verify

    @given(raw=mutations(seeds["signed.mp4"]) | mutations(seeds["still.jpg"]))
    @FUZZ
    def run(raw: bytes) -> None:
        path = _write(tmp_path_factory.mktemp("c2pa"), raw, ".bin")
        _run_bounded(lambda: verify(path))

    run()


def test_still_probe_and_decode(
    seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    @given(raw=mutations(seeds["still.jpg"]) | mutations(seeds["still.png"]))
    @FUZZ
    def run(raw: bytes) -> None:
        path = _write(tmp_path_factory.mktemp("still"), raw, ".img")
        _run_bounded(lambda: (probe_still(path), decode_still(path)))

    run()


def _request(body: bytes, boundary: bytes) -> object:
    """A real Starlette request whose body arrives in a few chunks."""
    from starlette.requests import Request

    chunks = [body[i : i + 997] for i in range(0, len(body), 997)] or [b""]
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/analyses",
        "headers": [(b"content-type", b"multipart/form-data; boundary=" + boundary)],
    }
    return Request(scope, receive)  # type: ignore[arg-type]


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    boundary = draw(st.sampled_from([b"zz", b"----x", b"b" * 70]))
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from([b"file", b"note", b"", b'fi"le']))
        header = b'Content-Disposition: form-data; name="' + name + b'"'
        if draw(st.booleans()):
            header += b'; filename="' + draw(st.binary(max_size=40)) + b'"'
        parts.append(
            b"--" + boundary + b"\r\n" + header + b"\r\n\r\n" + draw(st.binary(max_size=300))
        )
    body = b"\r\n".join(parts) + b"\r\n--" + boundary + b"--\r\n"
    if draw(st.booleans()):
        body = draw(mutations(body))
    return body, boundary


@given(case=multipart_bodies())
@FUZZ
def test_multipart_parser(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[bytes, bytes]
) -> None:
    from reelproof.service.api.problems import ProblemError
    from reelproof.service.api.uploads import receive_upload

    body, boundary = case
    folder = tmp_path_factory.mktemp("uploads")
    start = time.monotonic()
    try:
        upload = asyncio.run(receive_upload(_request(body, boundary), folder, 4096, 5.0))  # type: ignore[arg-type]
    except ProblemError as err:
        assert 400 <= err.status < 500
        assert not list(folder.iterdir())  # nothing half-written is left behind
    else:
        assert upload.path.is_file() and upload.size_bytes == upload.path.stat().st_size > 0
    assert time.monotonic() - start < SLOWEST_S
