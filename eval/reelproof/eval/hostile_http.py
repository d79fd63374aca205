"""The API half of ``reelproof eval hostile``: hostile files and hostile requests against a real
``reelproof serve`` on loopback (one worker), each checked for the answer a client should get."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from reelproof.eval.hostile_cases import FileCase
from reelproof.eval.service_bench import ServerProcess

if TYPE_CHECKING:
    from rich.progress import Progress

    from reelproof.eval.hostile_bench import HostileRow

UPLOAD_LIMIT = 8 * 1024 * 1024
IDLE_TIMEOUT_S = 3


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (connection closed, timeout)
    problem: bool  # the body is application/problem+json
    job_failed: bool = False  # an analysis that ended "failed" with a problem


Request = Callable[[ServerProcess], Answer]


def _answer(resp: httpx.Response) -> Answer:
    problem = resp.headers.get("content-type", "").startswith("application/problem+json")
    failed = False
    if resp.status_code in (200, 202) and "application/json" in resp.headers.get(
        "content-type", ""
    ):
        failed = resp.json().get("status") == "failed"
    return Answer(resp.status_code, problem, failed)


def _client(server: ServerProcess, auth: bool = True) -> httpx.Client:
    headers = server.headers() if auth else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=60)


def _post(
    path: str,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    auth: bool = True,
    **kw: object,
) -> Request:
    def send(server: ServerProcess) -> Answer:
        with _client(server, auth) as client:
            return _answer(client.post(path, files=files, **kw))  # type: ignore[arg-type]

    return send


def _get(path: str, auth: bool = True, **kw: object) -> Request:
    def send(server: ServerProcess) -> Answer:
        with _client(server, auth) as client:
            return _answer(client.get(path, **kw))  # type: ignore[arg-type]

    return send


def _raw(data: bytes, wait_s: float = IDLE_TIMEOUT_S + 5) -> Request:
    """Bytes on a bare socket: what the server answers before the app sees a request."""

    def send(server: ServerProcess) -> Answer:
        with socket.create_connection(("127.0.0.1", server.port), timeout=wait_s) as sock:
            sock.sendall(data)
            reply = b""
            try:
                while chunk := sock.recv(65536):
                    reply += chunk
            except TimeoutError:
                pass
        if not reply.startswith(b"HTTP/1.1 "):
            return Answer(None, False)
        head = reply.split(b"\r\n\r\n", 1)[0].lower()
        return Answer(int(reply[9:12]), b"application/problem+json" in head)

    return send


def _multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"hostile") -> bytes:
    out = b""
    for header, body in parts:
        out += b"--" + boundary + b"\r\n" + header + b"\r\n\r\n" + body + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def protocol_requests(server: ServerProcess, clip: bytes) -> list[tuple[str, str, Request]]:
    """Hostile requests: ``(name, expect, request)``; expect is refuse / answer."""
    key = server.key.encode()
    auth = b"Authorization: Bearer " + key + b"\r\n"
    file_part = (b'Content-Disposition: form-data; name="file"; filename="a.mp4"', clip)
    ctype = b"Content-Type: multipart/form-data; boundary=hostile\r\n"
    body = _multipart([file_part])

    def post_raw(extra: bytes, payload: bytes, length: int | None = None) -> bytes:
        size = len(payload) if length is None else length
        return (
            b"POST /v1/c2pa/verify HTTP/1.1\r\nHost: x\r\n" + auth + extra
            + f"Content-Length: {size}\r\n\r\n".encode() + payload
        )  # fmt: skip

    up = {"file": ("a.mp4", clip, "video/mp4")}
    return [
        ("no-api-key", "refuse", _post("/v1/c2pa/verify", up, auth=False)),
        (
            "bad-api-key",
            "refuse",
            _post("/v1/c2pa/verify", up, headers={"Authorization": "Bearer rp_x_y"}),
        ),
        ("json-body", "refuse", _post("/v1/c2pa/verify", json={"file": "x"})),
        (
            "no-file-part",
            "refuse",
            _post(
                "/v1/c2pa/verify", data={"note": "x"}, files={"other": ("x", b"x", "text/plain")}
            ),
        ),
        ("empty-file", "refuse", _post("/v1/c2pa/verify", {"file": ("a.mp4", b"", "video/mp4")})),
        ("two-file-parts", "refuse", _raw(post_raw(ctype, _multipart([file_part, file_part])))),
        (
            "over-upload-limit",
            "refuse",
            _post("/v1/c2pa/verify", {"file": ("a.mp4", b"\0" * (UPLOAD_LIMIT + 1), "video/mp4")}),
        ),
        ("declared-over-limit", "refuse", _raw(post_raw(ctype, b"", UPLOAD_LIMIT * 4))),
        (
            "huge-other-field",
            "refuse",
            _post("/v1/c2pa/verify", up, data={"note": "x" * (1 << 20)}),
        ),
        (
            "huge-part-header",
            "refuse",
            _raw(
                post_raw(
                    ctype,
                    _multipart(
                        [
                            (
                                b'Content-Disposition: form-data; name="file"; filename="'
                                + b"a" * 20000
                                + b'"',
                                clip,
                            )
                        ]
                    ),
                )
            ),
        ),
        (
            "fifty-parts",
            "refuse",
            _raw(
                post_raw(
                    ctype, _multipart([(b'Content-Disposition: form-data; name="n"', b"x")] * 50)
                )
            ),
        ),
        ("no-boundary", "refuse", _raw(post_raw(b"Content-Type: multipart/form-data\r\n", body))),
        (
            "long-boundary",
            "refuse",
            _raw(
                post_raw(
                    b"Content-Type: multipart/form-data; boundary=" + b"b" * 300 + b"\r\n", body
                )
            ),
        ),
        ("unterminated-body", "refuse", _raw(post_raw(ctype, body[:-12]))),
        ("stall-after-headers", "refuse", _raw(post_raw(ctype, b"", 100_000))),
        ("stall-mid-file", "refuse", _raw(post_raw(ctype, body[: len(body) // 2], len(body)))),
        ("malformed-request-line", "refuse", _raw(b"THIS IS NOT HTTP\r\n\r\n")),
        (
            "bad-content-length",
            "refuse",
            _raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
        ),
        (  # one large header arriving whole is parsed; only a request head over 16 KiB in
            # pieces is cut (h11's limit): both are honest answers
            "header-100k",
            "either",
            _raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"),
        ),
        ("url-10k", "refuse", _get("/v1/analyses/" + "a" * 10_000)),
        (
            "traversal-filename",
            "answer",
            _post("/v1/c2pa/verify", {"file": ("../../../etc/passwd", clip, "video/mp4")}),
        ),
        (
            "markup-filename",
            "answer",
            _post("/v1/c2pa/verify", {"file": ("[red]x[/red]\x1b[31m.mp4", clip, "video/mp4")}),
        ),
        (
            "bad-idempotency-key",
            "refuse",
            _post("/v1/c2pa/verify", up, headers={"Idempotency-Key": "has spaces in it"}),
        ),
        (
            "prefer-wait-huge",
            "answer",
            _post("/v1/analyses", up, headers={"Prefer": "wait=999999999"}),
        ),
        ("unknown-analysis", "refuse", _get("/v1/analyses/does-not-exist")),
        (
            "report-unknown",
            "refuse",
            _get("/v1/analyses/nope/report", headers={"Accept": "text/html"}),
        ),
        (
            "binding-bad-alg",
            "refuse",
            _get("/v1/matches/byBinding", params={"alg": "x", "value": "00"}),
        ),
        (
            "binding-bad-value",
            "refuse",
            _get("/v1/matches/byBinding", params={"alg": "io.reelproof.rp-ss.1", "value": "!!!"}),
        ),
        (
            "binding-huge-value",
            "refuse",
            _get(
                "/v1/matches/byBinding", params={"alg": "io.reelproof.rp-ss.1", "value": "a" * 5000}
            ),
        ),
        ("manifest-junk-id", "refuse", _get("/v1/manifests/%00%ff..")),
        ("trace-method", "refuse", _raw(b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n")),
        (
            "non-utf8-header",
            "answer",
            _raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: \xff\xfe\r\n\r\n"),
        ),
    ]


def _group_peak_mb(server: ServerProcess) -> float:
    """Peak resident memory of the server or any of its workers (``VmHWM``), in MB."""
    assert server.proc is not None
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            if os.getpgid(int(status.parent.name)) != server.proc.pid:
                continue
        except (OSError, ValueError):
            continue
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024


def http_cases(
    built: list[tuple[FileCase, Path]], clip: bytes, home: Path, quick: bool, progress: Progress
) -> list[HostileRow]:
    """File cases uploaded to both routes, and the hostile requests, as rows."""
    from reelproof.eval.hostile_bench import HostileRow, expected

    home.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(
        home,
        {
            "REELPROOF_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
            "REELPROOF_UPLOAD_IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
            "REELPROOF_THUMBNAILS": "2",
        },
    )
    server.start()
    uploads = [(c, p) for c, p in built if c.group != "paths" and p.is_file()]
    plan: list[tuple[str, str, str, str, Request]] = []
    for index, (case, path) in enumerate(uploads):
        data = path.read_bytes()
        if len(data) > UPLOAD_LIMIT:
            continue
        files = {"file": (path.name, data, "application/octet-stream")}
        plan.append(
            (
                case.name,
                case.group,
                "POST /v1/c2pa/verify",
                case.expect_for("api"),
                _post("/v1/c2pa/verify", files),
            )
        )
        if index % (8 if quick else 3) == 0:
            waited = _post("/v1/analyses", files, headers={"Prefer": "wait=60"})
            plan.append(
                (case.name, case.group, "POST /v1/analyses", case.expect_for("api"), waited)
            )
    for name, expect, request in protocol_requests(server, clip):
        plan.append((name, "requests", name, expect, request))
    rows: list[HostileRow] = []
    task = progress.add_task("hostile requests", total=len(plan))
    try:
        for name, group, what, expect, request in plan:
            start = time.monotonic()
            try:
                answer = request(server)
            except (httpx.HTTPError, OSError):
                answer = Answer(None, False)
            seconds = time.monotonic() - start
            status = answer.status
            refused = answer.job_failed or (
                status is not None and 400 <= status < 500 and answer.problem
            )
            answered = status is not None and 200 <= status < 300 and not answer.job_failed
            peak = _group_peak_mb(server)
            # A stalled upload is answered after the idle timeout by design.
            limit = IDLE_TIMEOUT_S + 10.0 if name.startswith("stall") else 10.0
            rows.append(
                HostileRow(
                    name, group, what, expect,
                    "no answer" if status is None else f"HTTP {status}" + (" (job failed)" if answer.job_failed else ""),
                    round(seconds, 2), round(peak, 1), False,
                    expected(expect, refused, answered) and seconds < limit and peak < 1536,
                )
            )  # fmt: skip
            progress.advance(task)
    finally:
        server.stop()
    traceback = "Traceback (most recent call last)" in server.log.read_text(errors="replace")
    if traceback:  # the server logged one: mark the run (it never reached a client as a 5xx)
        rows.append(
            HostileRow(
                "server-log",
                "requests",
                "server log",
                "answer",
                "traceback logged",
                0.0,
                0.0,
                True,
                False,
            )
        )
    return rows
