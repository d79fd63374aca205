"""Multipart uploads streamed straight to disk, hashed on the way, under a size limit.

The request body is parsed as it arrives (python-multipart's streaming parser); the ``file`` part
goes to a private file in the upload folder, and the upload is refused with 413 the moment it
passes the limit, before the rest is read. Nothing is spooled in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from reelproof.service.api.problems import ProblemError

FILE_FIELD = "file"
MAX_PARTS = 8
MAX_FIELD_BYTES = 64 * 1024
"""Bytes of all other form parts together (they are read and dropped, never kept)."""
MAX_HEADER_BYTES = 8 * 1024
"""Bytes of one part's headers."""
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "The video (MP4, MOV, M4V, MKV, WebM, AVI) or still image "
                            "(JPEG, PNG, WebP, HEIC/HEIF, AVIF).",
                        }
                    },
                    "required": [FILE_FIELD],
                }
            }
        },
    }
}
"""OpenAPI request body shared by the upload endpoints (the handlers parse it themselves)."""


@dataclass(frozen=True)
class Upload:
    """A received upload on disk."""

    path: Path
    filename: str
    sha256: str
    size_bytes: int


def safe_filename(raw: str | None) -> str:
    """A display name without path parts or odd characters (never used as a path)."""
    base = (raw or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or "upload"
    return cleaned[:120]


class _PartSink:
    """Callbacks for python-multipart: routes the ``file`` part's bytes into a file."""

    def __init__(self, dest: Path, max_bytes: int) -> None:
        self.dest = dest
        self.max_bytes = max_bytes
        self.digest = hashlib.sha256()
        self.size = 0
        self.parts = 0
        self.filename: str | None = None
        self.got_file = False
        self._fh: IO[bytes] | None = None
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self.ended = False
        self.field_bytes = 0
        self._header_bytes = 0

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_end(self) -> None:
        self.ended = True

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ProblemError(400, f"too many form parts (at most {MAX_PARTS})", "bad-multipart")
        self._headers = {}
        self._in_file = False
        self._header_bytes = 0

    def _count_header(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            raise ProblemError(
                400, f"a form part's headers exceed {MAX_HEADER_BYTES} bytes", "bad-multipart"
            )

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name != FILE_FIELD:
            return
        if self.got_file:
            raise ProblemError(400, "send exactly one 'file' part", "bad-multipart")
        self.got_file = True
        self._in_file = True
        raw_name = params.get(b"filename")
        self.filename = safe_filename(raw_name.decode("utf-8", "replace") if raw_name else None)
        fd = os.open(self.dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._fh = os.fdopen(fd, "wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file or self._fh is None:
            # Other fields are not used: count them so a huge one is refused, keep nothing.
            self.field_bytes += end - start
            if self.field_bytes > MAX_FIELD_BYTES:
                raise ProblemError(
                    413,
                    f"form fields other than 'file' exceed {MAX_FIELD_BYTES} bytes",
                    "fields-too-large",
                )
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise ProblemError(
                413,
                f"the upload exceeds the limit of {self.max_bytes} bytes",
                "upload-too-large",
            )
        self.digest.update(chunk)
        self._fh.write(chunk)

    def on_part_end(self) -> None:
        if self._in_file and self._fh is not None:
            self._fh.close()
            self._fh = None
        self._in_file = False

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


async def receive_upload(
    request: Request, upload_dir: Path, max_bytes: int, idle_timeout_s: float = 30.0
) -> Upload:
    """Stream the request's multipart ``file`` part to a new file in ``upload_dir``.

    Args:
        request: the incoming request.
        upload_dir: where the upload is written (``*.upload`` until it is complete).
        max_bytes: size limit of the ``file`` part.
        idle_timeout_s: a client that sends nothing for this long is answered 408 and dropped.

    Raises:
        ProblemError: 408 (stalled), 411/413 (size), 415 (not multipart), 400 (malformed), 422
            (no file or empty file). The partial file is deleted on any failure.
    """
    ctype, params = parse_options_header(request.headers.get("content-type"))
    if ctype != b"multipart/form-data":
        raise ProblemError(
            415,
            "send the clip as multipart/form-data with a 'file' part",
            "unsupported-content-type",
        )
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise ProblemError(400, "the multipart boundary is missing or too long", "bad-multipart")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ProblemError(400, "Content-Length is not a number", "bad-request")
        if int(declared) > max_bytes + 64 * 1024:  # form framing adds a little
            raise ProblemError(
                413, f"the upload exceeds the limit of {max_bytes} bytes", "upload-too-large"
            )
    upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest = upload_dir / f"{secrets.token_hex(16)}.upload"
    sink = _PartSink(dest, max_bytes)
    parser = MultipartParser(boundary, sink.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in _chunks(request, idle_timeout_s):
            parser.write(chunk)
        parser.finalize()
    except ProblemError:
        sink.close()
        dest.unlink(missing_ok=True)
        raise
    except ClientDisconnect:
        sink.close()
        dest.unlink(missing_ok=True)
        raise ProblemError(
            400, "the client disconnected during the upload", "bad-multipart"
        ) from None
    except Exception as err:  # the parser raises its own errors on malformed framing
        sink.close()
        dest.unlink(missing_ok=True)
        raise ProblemError(400, f"malformed multipart body: {err}", "bad-multipart") from err
    sink.close()
    if not sink.ended:
        dest.unlink(missing_ok=True)
        raise ProblemError(
            400, "the multipart body ended before its closing boundary", "bad-multipart"
        )
    if not sink.got_file:
        dest.unlink(missing_ok=True)
        raise ProblemError(422, "the form has no 'file' part", "missing-file")
    if sink.size == 0:
        dest.unlink(missing_ok=True)
        raise ProblemError(422, "the uploaded file is empty", "empty-file")
    return Upload(dest, sink.filename or "upload", sink.digest.hexdigest(), sink.size)


async def _chunks(request: Request, idle_timeout_s: float) -> AsyncIterator[bytes]:
    """The request body's chunks; a pause longer than ``idle_timeout_s`` ends it with a 408."""
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), timeout=idle_timeout_s)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise ProblemError(
                408,
                f"the upload stalled: no data for {idle_timeout_s:g} s",
                "upload-timeout",
                headers={"Connection": "close"},
            ) from None
        if chunk:
            yield chunk


def remove_stale_uploads(upload_dir: Path, older_than_s: float) -> int:
    """Delete partial uploads left by a server that died mid-request; returns how many.

    A live upload writes at least every ``idle_timeout_s`` (or is dropped), so an ``*.upload``
    file untouched for longer than ``older_than_s`` belongs to no request, on this node or any
    other sharing the folder.
    """
    cutoff = time.time() - older_than_s
    removed = 0
    for partial in upload_dir.glob("*.upload"):
        with contextlib.suppress(FileNotFoundError):
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
                removed += 1
    return removed
