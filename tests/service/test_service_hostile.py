"""Hostile files and hostile clients: one regression test per case of issue 23.

Markup in certificate names, box-count blow-ups, FIFOs, huge form fields, stalled uploads, a
server killed with SIGKILL, the response headers, offline /docs, malformed HTTP, the database's
file mode, and a signal that overruns its time budget.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import stat
import struct
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from svc_helpers import REELPROOF, Server, assert_problem, make_server, upload

from reelproof.provenance import ManifestSpec, init_dev_pki, load_signer, sign
from reelproof.provenance.trust import C2PA_CLAIM_SIGNING_EKU

HOSTILE_CN = "News Desk [/] [link=https://evil.example]x[/link] \x1b[31mred"


def _hostile_chain(pki_dir: Path, out: Path) -> tuple[Path, Path]:
    """A signing certificate under the dev intermediate whose common name is hostile markup."""
    inter = x509.load_pem_x509_certificate((pki_dir / "intermediate.pem").read_bytes())
    inter_key = serialization.load_pem_private_key(
        (pki_dir / "intermediate.key.pem").read_bytes(), None
    )
    assert isinstance(inter_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE_CN),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hostile [bold]Org[/bold]"),
        ]
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(inter.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()), False
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(C2PA_CLAIM_SIGNING_EKU)]), False
        )
        .sign(inter_key, hashes.SHA256())
    )
    chain = out / "hostile.chain.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + inter.public_bytes(serialization.Encoding.PEM)
    )
    key_path = out / "hostile.key.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain, key_path


@pytest.fixture(scope="module")
def hostile_signed(tmp_path_factory: pytest.TempPathFactory, bikes_mp4: Path) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    pki = init_dev_pki(folder / "pki")
    chain, key = _hostile_chain(folder / "pki", folder)
    signed = folder / "hostile [red]title[/red].mp4"
    sign(
        bikes_mp4,
        signed,
        ManifestSpec(title="[/] \x1b]8;;https://evil\x07x"),
        load_signer(chain, key),
    )
    return signed, pki.root_pem


def _run(args: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [REELPROOF, *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.mark.parametrize("command", [["verify", "--no-detector"], ["provenance", "verify"]])
def test_certificate_markup_is_printed_as_text(
    hostile_signed: tuple[Path, Path], command: list[str]
) -> None:
    clip, root = hostile_signed
    done = _run([*command, str(clip), "--trust", str(root)])
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "MarkupError" not in done.stderr
    assert "News Desk [/]" in done.stdout  # the brackets are shown, not parsed
    assert "[link=https://evil.example]" in done.stdout  # and no link was made of them
    assert "\x1b" not in done.stdout + done.stderr  # no escape byte reaches the terminal


def test_markup_is_escaped_in_the_html_report(
    hostile_signed: tuple[Path, Path], tmp_path: Path
) -> None:
    clip, root = hostile_signed
    html = tmp_path / "report.html"
    done = _run(["verify", str(clip), "--no-detector", "--trust", str(root), "--html", str(html)])
    assert done.returncode == 0, done.stderr
    page = html.read_text()
    assert "News Desk [/]" in page and "<script" not in page
    assert 'href="https://evil' not in page


def _boxes(n: int) -> bytes:
    return struct.pack(">I4s", 8, b"free") * n


def _with_boxes_in_moov(src: bytes, n: int) -> bytes:
    start = src.find(b"moov") - 4
    size = struct.unpack(">I", src[start : start + 4])[0]
    extra = _boxes(n)
    moov = struct.pack(">I", size + len(extra)) + src[start + 4 : start + size] + extra
    return src[:start] + moov + src[start + size :]


@pytest.mark.parametrize("where", ["top", "moov"])
def test_box_count_is_bounded_before_reading(bikes_mp4: Path, tmp_path: Path, where: str) -> None:
    src = bikes_mp4.read_bytes()
    data = src + _boxes(100_000) if where == "top" else _with_boxes_in_moov(src, 100_000)
    clip = tmp_path / f"boxes-{where}.mp4"
    clip.write_bytes(data)
    for command in (["provenance", "verify"], ["verify", "--no-detector"]):
        start = time.monotonic()
        done = _run([*command, str(clip)], timeout=60)
        assert done.returncode == 3, (done.stdout, done.stderr)
        assert "boxes" in done.stderr and "Traceback" not in done.stderr
        assert time.monotonic() - start < 30  # was 89 s (top) / 33 s (in moov) before the bound


@pytest.mark.parametrize("command", [["provenance", "verify"], ["verify"]])
def test_fifo_is_refused_not_read(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    done = _run([*command, str(fifo)], timeout=60)  # used to block forever on open()
    assert done.returncode == 3
    assert "not a regular file" in done.stderr


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    srv = make_server(
        tmp_path_factory.mktemp("hostile-server"), detector="false", upload_idle_timeout_s="2"
    )
    stale = srv.data_dir / "uploads" / "left-by-a-crash.upload"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    srv.start()
    yield srv
    srv.stop()


def test_stale_partial_uploads_are_removed_at_start(small_server: Server) -> None:
    assert not (small_server.data_dir / "uploads" / "left-by-a-crash.upload").exists()


def test_other_form_fields_are_size_limited(small_server: Server, bikes_mp4: Path) -> None:
    with small_server.client() as api:
        resp = api.post(
            "/v1/c2pa/verify", files=upload(bikes_mp4), data={"note": "x" * (1024 * 1024)}
        )
    assert_problem(resp, 413)
    assert "form fields" in resp.json()["detail"]


def _raw_stall(server: Server, body_start: bytes) -> tuple[bytes, float]:
    head = (
        b"POST /v1/c2pa/verify HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {server.api_key}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: 100000\r\n\r\n"
    )
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body_start)  # then nothing more
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - start


def test_stalled_upload_is_dropped_with_408(small_server: Server) -> None:
    part = b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nabc'
    for body_start in (b"", part):
        answer, took = _raw_stall(small_server, body_start)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"application/problem+json" in answer
        assert took < 20
    assert not list((small_server.data_dir / "uploads").glob("*.upload"))


def test_security_headers_and_offline_docs(small_server: Server) -> None:
    with httpx.Client(base_url=small_server.url) as client:
        for path in ("/healthz", "/", "/docs", "/openapi.json"):
            resp = client.get(path)
            assert resp.status_code == 200, path
            assert resp.headers["x-content-type-options"] == "nosniff"
            assert resp.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert client.get("/healthz").headers["cache-control"] == "no-store"
        docs = client.get("/docs").text
        assert "cdn" not in docs.lower() and "/static-offline-docs/swagger-ui-bundle.js" in docs
        asset = client.get("/static-offline-docs/swagger-ui-bundle.js")
        assert asset.status_code == 200 and len(asset.content) > 100_000


def test_malformed_http_gets_a_problem(small_server: Server) -> None:
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"application/problem+json" in answer and b'"status": 400' in answer


def test_service_database_is_private(small_server: Server) -> None:
    mode = stat.S_IMODE((small_server.data_dir / "service.sqlite").stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)


def test_workers_do_not_outlive_a_killed_server(tmp_path: Path) -> None:
    server = make_server(tmp_path / "srv", detector="false").start()
    assert server.proc is not None
    group = server.proc.pid  # started in its own session: the group id is its pid
    os.kill(server.proc.pid, signal.SIGKILL)  # the server alone, as the OOM killer would
    server.proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            break  # no process of the group is left: workers and resource tracker are gone
        time.sleep(0.5)
    else:
        survivors = subprocess.run(
            ["ps", "-o", "pid,cmd", "-g", str(group)], capture_output=True, text=True, check=False
        ).stdout
        os.killpg(group, signal.SIGKILL)
        pytest.fail(f"processes outlived the killed server:\n{survivors}")


class _HungScorer:
    """A classifier that never answers in time (as a library stuck on a crafted input would)."""

    has_face_head = False
    model_id = "hung@0"

    def score_file(self, path: object, max_frames: int | None = None, faces: bool = False) -> None:
        time.sleep(30)

    def score_frames(self, *args: object, **kwargs: object) -> None:
        time.sleep(30)


def test_a_signal_past_its_time_budget_is_reported_and_abandoned(bikes_mp4: Path) -> None:
    from reelproof.service.pipeline import Verifier, VerifyOptions
    from reelproof.service.resources import Lazy

    verifier = Verifier(VerifyOptions(signal_timeout_s=2.0, watermark_max_frames=8))
    verifier.resources.detector = Lazy(_HungScorer)  # type: ignore[arg-type]
    start = time.monotonic()
    verdict = verifier.verify(bikes_mp4)
    assert time.monotonic() - start < 15  # not the scorer's 30 s
    assert verdict.detector.status.value == "error"
    assert "did not finish within 2 s" in str(verdict.detector.reason)
    assert verdict.provenance.status.value == "ok" and verdict.watermark.status.value == "ok"
    assert verdict.verdict.value in ("inconclusive", "not_applicable")
