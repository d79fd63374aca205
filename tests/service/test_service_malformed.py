"""Malformed uploads: every one gets a 4xx problem answer, never a 5xx, never a queued job."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from svc_helpers import Server, assert_problem

MP4 = "video/mp4"


def post(
    api: httpx.Client, content: bytes, name: str = "clip.mp4", route: str = "/v1/analyses"
) -> httpx.Response:
    return api.post(route, files={"file": (name, content, MP4)}, headers={"Prefer": "wait=30"})


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def noisy_png_bytes() -> bytes:
    """A PNG whose pixel data does not compress, so cutting it loses image rows."""
    from PIL import Image

    buf = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.js", "alert(1)")
    return buf.getvalue()


@pytest.fixture(scope="module")
def faststart_mp4(tmp_path_factory: pytest.TempPathFactory, carphone_mp4: Path) -> bytes:
    """A complete faststart MP4 (moov before mdat), written by ReelProof's writer."""
    from reelproof.core.io import read_clip, write_clip

    path = tmp_path_factory.mktemp("fs") / "faststart.mp4"
    write_clip(read_clip(carphone_mp4, max_frames=30), path)
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    return data


def cases(bikes: bytes, faststart: bytes) -> dict[str, tuple[bytes, str, tuple[int, ...]]]:
    """name -> (file bytes, file name, acceptable statuses)."""
    return {
        "empty": (b"", "clip.mp4", (422,)),
        "text-as-mp4": (b"hello, this is not a video\n" * 40, "clip.mp4", (415,)),
        "zip-as-mp4": (zip_bytes(), "clip.mp4", (415,)),
        "html": (b"<!DOCTYPE html><script>alert(1)</script>" * 10, "clip.mp4", (415,)),
        "hls-playlist": (b"#EXTM3U\n#EXT-X-VERSION:3\nhttp://example.com/a.ts\n", "a.m3u8", (415,)),
        "truncated-moov-at-end": (bikes[: len(bikes) * 6 // 10], "clip.mp4", (422,)),
        "truncated-faststart": (faststart[: len(faststart) * 95 // 100], "clip.mp4", (422,)),
        "truncated-header": (bikes[:20], "clip.mp4", (415, 422)),
        "polyglot-png-then-mp4": (png_bytes() + bikes, "clip.mp4", (415,)),
        "png-cut-in-half": (noisy_png_bytes()[:2000], "photo.png", (415, 422)),
        "polyglot-mp4-then-zip": (bikes + zip_bytes(), "clip.mp4", (415,)),
        "polyglot-mp4-then-html": (
            faststart + b"<html><script>alert(1)</script></html>",
            "x.mp4",
            (415,),
        ),
        "random-bytes": (np.random.default_rng(0).bytes(50_000), "clip.mp4", (415,)),
        "ftyp-only": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "clip.mp4", (422,)),
    }


@pytest.fixture(scope="module")
def malformed(
    bikes_mp4: Path, faststart_mp4: bytes
) -> dict[str, tuple[bytes, str, tuple[int, ...]]]:
    return cases(bikes_mp4.read_bytes(), faststart_mp4)


NAMES = list(cases(b"\0" * 100, b"\0" * 100))


@pytest.mark.parametrize("name", NAMES)
def test_malformed_file_gives_a_4xx_problem(
    api: httpx.Client,
    server: Server,
    malformed: dict[str, tuple[bytes, str, tuple[int, ...]]],
    name: str,
) -> None:
    content, filename, statuses = malformed[name]
    body = assert_problem(post(api, content, filename), statuses)
    assert str(server.data_dir) not in str(body["detail"])  # no server paths in messages
    assert ".upload" not in str(body["detail"])


@pytest.mark.parametrize(
    "name",
    [
        "text-as-mp4",
        "polyglot-png-then-mp4",
        "polyglot-mp4-then-zip",
        "polyglot-mp4-then-html",
        "truncated-moov-at-end",
        "truncated-faststart",
        "ftyp-only",
        "random-bytes",
        "png-cut-in-half",
    ],
)
def test_malformed_file_on_the_provenance_route(
    api: httpx.Client, malformed: dict[str, tuple[bytes, str, tuple[int, ...]]], name: str
) -> None:
    content, filename, statuses = malformed[name]
    assert_problem(post(api, content, filename, route="/v1/c2pa/verify"), statuses)


def test_a_png_named_mp4_is_read_as_the_still_it_is(api: httpx.Client) -> None:
    """Formats come from the bytes, never the name: since stills are verified (issue 19), a PNG
    called clip.mp4 is a PNG (it used to be refused as "not a video")."""
    resp = post(api, png_bytes(), "clip.mp4", route="/v1/c2pa/verify")
    assert resp.status_code == 200, resp.text
    assert resp.json()["mime"] == "image/png"


def test_absurd_dimensions_are_refused_before_decoding(api: httpx.Client, make_video) -> None:  # type: ignore[no-untyped-def]
    frames = np.full((1, 1152, 8192, 3), 90, np.uint8)  # 9.4 Mpx: over the 4096x2160 default
    path = make_video(name="huge.mp4", frames=frames)
    body = assert_problem(post(api, path.read_bytes()), 422)
    assert "limit" in str(body["type"]) or "limit" in str(body["detail"]).lower()


def test_lying_header_dimensions_never_5xx(api: httpx.Client, bikes_mp4: Path) -> None:
    data = bytearray(bikes_mp4.read_bytes())
    tkhd = data.find(b"tkhd")
    assert tkhd > 0
    # tkhd v0: width/height are the last 8 bytes of the 84-byte box body (16.16 fixed point).
    end = tkhd - 4 + int.from_bytes(data[tkhd - 4 : tkhd], "big")
    data[end - 8 : end] = (0xFFFF0000).to_bytes(4, "big") * 2
    stsd = data.find(b"avc1")
    data[stsd + 28 : stsd + 32] = b"\xff\xff\xff\xff"  # avc1 sample entry width/height
    resp = post(api, bytes(data))
    assert resp.status_code < 500, resp.text


def test_oversize_upload_is_413_with_and_without_content_length(
    api: httpx.Client, server: Server
) -> None:
    big = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\0" * (5 * 1024 * 1024)
    assert_problem(post(api, big), 413)

    def chunks() -> Iterator[bytes]:
        boundary = b"--rpboundary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        yield b"Content-Type: video/mp4\r\n\r\n"
        for _ in range(6):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n" + boundary + b"--\r\n"

    resp = api.post(
        "/v1/analyses",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=rpboundary"},
    )
    assert_problem(resp, 413)
    assert not list((server.data_dir / "uploads").glob("*")), "partial upload left on disk"


def test_broken_multipart_framing(api: httpx.Client, bikes_mp4: Path) -> None:
    video = bikes_mp4.read_bytes()
    assert_problem(api.post("/v1/analyses", content=video, headers={"Content-Type": MP4}), 415)
    assert_problem(
        api.post("/v1/analyses", content=video, headers={"Content-Type": "multipart/form-data"}),
        400,
    )
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
    unterminated = part + video[:1000]
    ctype = {"Content-Type": "multipart/form-data; boundary=b"}
    assert_problem(api.post("/v1/analyses", content=unterminated, headers=ctype), 400)
    two = part + b"x\r\n" + part + b"y\r\n--b--\r\n"
    assert_problem(api.post("/v1/analyses", content=two, headers=ctype), 400)
    other = b'--b\r\nContent-Disposition: form-data; name="clip"\r\n\r\nxyz\r\n--b--\r\n'
    assert_problem(api.post("/v1/analyses", content=other, headers=ctype), 422)
    assert_problem(api.post("/v1/analyses", content=b"garbage", headers=ctype), 400)


def test_no_5xx_was_ever_served(api: httpx.Client, server: Server) -> None:
    """Runs last in this module: the server's own counters show no 5xx at all."""
    text = httpx.get(server.url + "/metrics").text
    lines = re.findall(r"^reelproof_http_requests_total\{([^}]*)\} ([0-9.e+]+)$", text, re.M)
    # /readyz answers 503 by design until the workers are warm.
    bad = [
        (labels, v)
        for labels, v in lines
        if re.search(r'status="5', labels) and 'route="/readyz"' not in labels and float(v) > 0
    ]
    assert not bad, bad
    assert any('route="/v1/analyses"' in labels for labels, _ in lines)
    assert httpx.get(server.url + "/healthz").status_code == 200
