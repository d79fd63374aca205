"""The hostile corpus: files built to break readers, each made from real footage or from scratch.

Every case is a function that writes one file (or makes a path: a FIFO, a directory, a link
loop) into a folder and says what a correct tool does with it: ``refuse`` (exit 3 / a 4xx
problem) or ``answer`` (a verdict or a report, exit 0), or ``either`` where both are honest (a
damaged file whose credentials may still be judged). ``reelproof eval hostile`` runs each through
the CLI and the API.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import io
import os
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Expect = Literal["refuse", "answer", "either"]
Builder = Callable[[Path], Path]


@dataclass(frozen=True)
class FileCase:
    """One hostile input.

    Attributes:
        name: short identifier (also the file's stem).
        group: what it attacks (format, structure, limits, stills, credentials, paths).
        expect: what a correct tool does with it.
        build: writes it into a folder and returns its path.
        credentials: what ``reelproof provenance verify`` does when that differs: a file in a
            format it reads, whose pictures are broken, still honestly has no credentials
            ("absent") or its credentials' state.
        api: what the API does when that differs (it refuses truncated uploads and polyglots
            the CLI reads as far as they go).
    """

    name: str
    group: str
    expect: Expect
    build: Builder
    credentials: Expect | None = None
    api: Expect | None = None

    def expect_for(self, command: str) -> Expect:
        """The expectation for a CLI command (``provenance verify``...) or ``api``."""
        if command == "api":
            return self.api or self.expect
        if command.startswith("provenance"):
            return self.credentials or self.expect
        return self.expect


# A header in a format the credentials reader knows, with nothing usable behind it: "no
# credentials" (absent) is an honest answer from the credentials check alone.
_CREDENTIALS_ANSWER = frozenset(
    {
        "ftyp-only",
        "box-size-huge-64",
        "jpeg-claims-65000px",
        "png-claims-100k-px",
        "png-bomb",
        "webp-garbage",
        "heic-ftyp-only",
    }
)
# A video cut short after its header: the CLI reads the frames that are there and says what it
# found; the API refuses the upload as truncated.
_CLI_READS_API_REFUSES = frozenset(
    {"truncated-10pct", "truncated-50pct", "truncated-90pct", "truncated-99pct"}
)


def _with_exceptions(case: FileCase) -> FileCase:
    if case.name in _CREDENTIALS_ANSWER:
        return dataclasses.replace(case, credentials="either")
    if case.name in _CLI_READS_API_REFUSES:
        return dataclasses.replace(case, expect="either", api="refuse")
    return case


@dataclass(frozen=True)
class Seeds:
    """Real files the cases are made from."""

    mp4: bytes  # a short real clip
    signed_mp4: bytes  # the same, C2PA-signed
    jpeg: bytes
    png: bytes
    fixtures: Path | None  # ../shared/c2pa-fixtures when present


def _box(kind: bytes, body: bytes = b"", size: int | None = None) -> bytes:
    return struct.pack(">I4s", len(body) + 8 if size is None else size, kind) + body


def _moov_span(data: bytes) -> tuple[int, int]:
    start = data.find(b"moov") - 4
    return start, struct.unpack(">I", data[start : start + 4])[0]


def _with_boxes_in_moov(data: bytes, extra: bytes) -> bytes:
    start, size = _moov_span(data)
    moov = struct.pack(">I", size + len(extra)) + data[start + 4 : start + size] + extra
    return data[:start] + moov + data[start + size :]


def _prefix(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _flips(data: bytes, start: int, end: int, count: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(count):
        out[rng.randrange(start, max(start + 1, end))] ^= rng.randrange(1, 256)
    return bytes(out)


def _nested(depth: int) -> bytes:
    body = _box(b"free")
    for _ in range(depth):
        body = _box(b"moov", body)
    return _box(b"ftyp", b"isom\x00\x00\x00\x00isom") + body


def _png(width: int, height: int, chunks: list[bytes], data: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + b"".join(chunks)
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )


def _jpeg_sof(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose frame header claims another size."""
    at = data.find(b"\xff\xc0")
    if at < 0:
        at = data.find(b"\xff\xc2")
    out = bytearray(data)
    out[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(out)


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("run.sh", "#!/bin/sh\necho owned\n")
    return buf.getvalue()


def _writer(name: str, payload: Callable[[], bytes], suffix: str) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / f"{name}{suffix}"
        path.write_bytes(payload())
        return path

    return build


def file_cases(seeds: Seeds) -> list[FileCase]:
    """Every hostile file case (about 80)."""
    cases: list[FileCase] = []

    def add(
        name: str, group: str, expect: Expect, payload: Callable[[], bytes], suffix: str = ".mp4"
    ) -> None:
        cases.append(FileCase(name, group, expect, _writer(name, payload, suffix)))

    mp4, signed = seeds.mp4, seeds.signed_mp4
    rng = random.Random(7)
    # -- not media at all ----------------------------------------------------------------------
    add("empty", "format", "refuse", lambda: b"")
    add("one-byte", "format", "refuse", lambda: b"\x00")
    for size in (64, 65536, 1 << 20):
        add(f"random-{size}", "format", "refuse", functools.partial(rng.randbytes, size))
    add("text", "format", "refuse", lambda: b"just some text\n" * 100, ".txt")
    add("html", "format", "refuse", lambda: b"<html><script>alert(1)</script></html>", ".html")
    add("json", "format", "refuse", lambda: b'{"verdict": "credentials_trusted"}', ".json")
    add("pdf", "format", "refuse", lambda: b"%PDF-1.7\n" + rng.randbytes(2000), ".pdf")
    add("elf", "format", "refuse", lambda: b"\x7fELF\x02\x01\x01" + rng.randbytes(2000), ".bin")
    add("zip", "format", "refuse", _zip_bytes, ".zip")
    add("gzip", "format", "refuse", lambda: gzip.compress(mp4), ".gz")
    add("gif-header", "format", "refuse", lambda: b"GIF89a" + rng.randbytes(500), ".gif")
    add(
        "wav-header",
        "format",
        "refuse",
        lambda: b"RIFF\x24\x00\x00\x00WAVEfmt " + rng.randbytes(64),
        ".wav",
    )
    add("playlist", "format", "refuse", lambda: b"#EXTM3U\nhttp://127.0.0.1:1/x.ts\n", ".m3u8")
    # -- ISO BMFF structure ------------------------------------------------------------------
    add("ftyp-only", "structure", "refuse", lambda: _box(b"ftyp", b"isom\x00\x00\x00\x00isom"))
    # A container without a track: no video to read, and no credentials to judge ("absent").
    add(
        "empty-moov",
        "structure",
        "either",
        lambda: _box(b"ftyp", b"isom\x00\x00\x00\x00isom") + _box(b"moov"),
    )
    add("mdat-only", "structure", "refuse", lambda: _box(b"mdat", rng.randbytes(5000)))
    for fraction in (0.01, 0.1, 0.5, 0.9, 0.99):
        add(f"truncated-{int(fraction * 100)}pct", "structure", "refuse",
            functools.partial(_prefix, mp4, fraction))  # fmt: skip
    for fraction in (0.5, 0.9):
        add(f"signed-truncated-{int(fraction * 100)}pct", "structure", "either",
            functools.partial(_prefix, signed, fraction))  # fmt: skip
    add("box-size-zero-mid", "structure", "either", lambda: mp4 + _box(b"free", b"x" * 32, size=0))
    add("box-size-huge-64", "structure", "refuse",
        lambda: mp4[:32] + struct.pack(">I4sQ", 1, b"mdat", 2**63 - 1) + mp4[32:])  # fmt: skip
    add("box-size-7", "structure", "refuse", lambda: _box(b"ftyp", b"", size=7) + mp4)
    add("box-past-end", "structure", "either", lambda: mp4 + _box(b"free", b"x" * 16, size=1 << 30))
    add("boxes-100k-top", "structure", "refuse", lambda: mp4 + _box(b"free") * 100_000)
    add(
        "boxes-100k-moov",
        "structure",
        "refuse",
        lambda: _with_boxes_in_moov(mp4, _box(b"free") * 100_000),
    )
    add("boxes-1m-top", "structure", "refuse", lambda: mp4 + _box(b"free") * 1_000_000)
    add("nested-1000", "structure", "refuse", lambda: _nested(1000))
    add("nested-40", "structure", "refuse", lambda: _nested(40))
    moov_start, moov_size = _moov_span(mp4)
    for seed in range(5):
        add(f"moov-flips-{seed}", "structure", "either",
            functools.partial(_flips, mp4, moov_start + 8, moov_start + moov_size, 8, seed))  # fmt: skip
    mdat = mp4.find(b"mdat")
    for seed in range(2):
        add(f"mdat-flips-{seed}", "structure", "either",
            functools.partial(_flips, mp4, mdat + 8, len(mp4), 200, seed))  # fmt: skip
    add("polyglot-zip-after", "structure", "either", lambda: mp4 + _zip_bytes())
    add("polyglot-html-after", "structure", "either", lambda: mp4 + b"<script>alert(1)</script>")
    add("polyglot-zip-before", "structure", "refuse", lambda: _zip_bytes() + mp4)
    # -- stills ----------------------------------------------------------------------------------
    jpeg, png = seeds.jpeg, seeds.png
    for fraction in (0.1, 0.5, 0.95):
        add(f"jpeg-truncated-{int(fraction * 100)}pct", "stills", "either",
            functools.partial(_prefix, jpeg, fraction), ".jpg")  # fmt: skip
    add("jpeg-claims-65000px", "stills", "refuse", lambda: _jpeg_sof(jpeg, 65000, 65000), ".jpg")
    add("jpeg-10k-segments", "stills", "refuse",
        lambda: jpeg[:2] + (b"\xff\xe1\x00\x04ab") * 10_000 + jpeg[2:], ".jpg")  # fmt: skip
    add(
        "png-claims-100k-px",
        "stills",
        "refuse",
        lambda: _png(100_000, 100_000, [], zlib.compress(b"\0" * 1000)),
        ".png",
    )
    add("png-bomb", "stills", "refuse",
        lambda: _png(20_000, 20_000, [], zlib.compress(b"\0" * (60_003 * 200), 9)), ".png")  # fmt: skip
    add("png-bad-crc", "stills", "either", lambda: png[:40] + b"\x00\x00" + png[42:], ".png")
    add("png-100k-chunks", "stills", "either",
        lambda: png[:33] + (struct.pack(">I", 0) + b"tEXt" + struct.pack(">I", 0)) * 100_000 + png[33:], ".png")  # fmt: skip
    add(
        "webp-garbage",
        "stills",
        "refuse",
        lambda: b"RIFF\x20\x00\x00\x00WEBPVP8 " + rng.randbytes(200),
        ".webp",
    )
    add(
        "heic-ftyp-only",
        "stills",
        "refuse",
        lambda: _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic"),
        ".heic",
    )
    add("avif-ftyp-garbage", "stills", "refuse",
        lambda: _box(b"ftyp", b"avif\x00\x00\x00\x00avifmif1") + _box(b"meta", rng.randbytes(300)), ".avif")  # fmt: skip
    # -- credentials -----------------------------------------------------------------------------
    for seed in range(2):
        add(
            f"signed-manifest-flips-{seed}",
            "credentials",
            "either",
            functools.partial(_flip_manifest, signed, seed),
        )
    add(
        "c2pa-marker-in-garbage",
        "credentials",
        "refuse",
        lambda: rng.randbytes(3000) + b"jumdc2pa" + rng.randbytes(3000),
    )
    add("fake-c2pa-uuid-box", "credentials", "either",
        lambda: mp4 + _box(b"uuid", bytes.fromhex("d8fec3d61b0e483c92975828877ec481") + rng.randbytes(400)))  # fmt: skip
    add("jpeg-app11-garbage", "credentials", "either",
        lambda: jpeg[:2] + b"\xff\xeb\x01\x00JP" + rng.randbytes(250) + jpeg[2:], ".jpg")  # fmt: skip
    if seeds.fixtures is not None:
        for rel, expect in (
            ("video/nested_moov_1000.mp4", "refuse"),
            ("video/dash1.m4s", "refuse"),
            ("stills/XCA.jpg", "answer"),
            ("stills/E-sig-CA.jpg", "answer"),
            ("stills/no_alg.jpg", "answer"),
            ("stills/prerelease.jpg", "answer"),
            ("stills/sample1.heic", "answer"),
        ):
            source = seeds.fixtures / rel
            add(f"fixture-{source.stem}", "credentials", expect, source.read_bytes, source.suffix)  # type: ignore[arg-type]
    # -- paths -----------------------------------------------------------------------------------
    cases += _path_cases()
    return [_with_exceptions(case) for case in cases]


def _flip_manifest(signed: bytes, seed: int) -> bytes:
    at = signed.find(b"jumdc2pa")
    return _flips(signed, at, min(len(signed), at + 4000), 4, seed)


def _path_cases() -> list[FileCase]:
    def fifo(folder: Path) -> Path:
        path = folder / "fifo.mp4"
        os.mkfifo(path)
        return path

    def directory(folder: Path) -> Path:
        path = folder / "dir.mp4"
        path.mkdir()
        return path

    def link_loop(folder: Path) -> Path:
        path = folder / "loop.mp4"
        path.symlink_to(path)
        return path

    def missing(folder: Path) -> Path:
        return folder / "missing.mp4"

    def dev_zero(folder: Path) -> Path:
        path = folder / "zero.mp4"
        path.symlink_to("/dev/zero")
        return path

    def long_name(folder: Path) -> Path:
        path = folder / ("x" * 240 + ".mp4")
        path.write_bytes(b"\x00" * 100)
        return path

    def control_name(folder: Path) -> Path:
        path = folder / "clip\x1b[31m[red]\nname.mp4"
        path.write_bytes(b"not a video" * 20)
        return path

    return [
        FileCase("fifo", "paths", "refuse", fifo),
        FileCase("directory", "paths", "refuse", directory),
        FileCase("symlink-loop", "paths", "refuse", link_loop),
        FileCase("missing", "paths", "refuse", missing),
        FileCase("dev-zero", "paths", "refuse", dev_zero),
        FileCase("long-name", "paths", "refuse", long_name),
        FileCase("control-chars-in-name", "paths", "refuse", control_name),
    ]
