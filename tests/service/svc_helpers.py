"""Helpers for the service tests: a real ``reelproof serve`` in a subprocess on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REELPROOF = str(Path(sys.executable).parent / "reelproof")
SERVER_START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REELPROOF, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class Server:
    """A running ``reelproof serve`` process and what a test needs to talk to it."""

    root: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    api_key: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["REELPROOF_DATA_DIR"])

    def create_key(self, name: str = "test", rate: int | None = None) -> str:
        args = ["keys", "create-api-key", "--name", name, "--json"]
        if rate is not None:
            args += ["--rate", str(rate)]
        done = run_cli(args, self.env)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["api_key"])

    def start(self, wait_ready: bool = True) -> Server:
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [REELPROOF, "serve", "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers die with it
        )
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError("server exited:\n" + self.log_tail())
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError("server not ready in time:\n" + self.log_tail())

    def log_tail(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        # Make sure no worker of this group survives its server.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def client(self, key: str | None = None, timeout: float = 120.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key if key is not None else self.api_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


def make_server(root: Path, **settings: str) -> Server:
    """A configured (not yet started) server with its own home, data folder and API key."""
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "REELPROOF_HOME": str(root / "home"),
            "REELPROOF_DATA_DIR": str(root / "data"),
            "REELPROOF_WORKERS": "1",
            "REELPROOF_THUMBNAILS": "4",
            "REELPROOF_MAX_UPLOAD_BYTES": str(4 * 1024 * 1024),
            "OMP_NUM_THREADS": "1",
        }
    )
    env.update({f"REELPROOF_{k.upper()}": v for k, v in settings.items()})
    server = Server(root=root, env=env)
    server.api_key = server.create_key("default")
    return server


def upload(
    path: Path, name: str | None = None, ctype: str = "video/mp4"
) -> dict[str, tuple[str, bytes, str]]:
    """A multipart ``files`` argument for httpx."""
    return {"file": (name or path.name, path.read_bytes(), ctype)}


def assert_problem(resp: httpx.Response, status: int | tuple[int, ...]) -> dict[str, object]:
    """The response is an RFC 9457 problem with the expected status."""
    wanted = (status,) if isinstance(status, int) else status
    assert resp.status_code in wanted, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == resp.status_code
    assert body["title"] and "type" in body
    return dict(body)


@dataclass(frozen=True)
class Clips:
    signed: Path
    stripped: Path
    tampered: Path
    watermark_id: str
    store: Path | str
    root_pem: Path


def build_clips(folder: Path, bikes_mp4: Path, store: Path | str | None = None) -> Clips:
    """Mark real footage, encode, sign with a throwaway PKI, store the manifest by watermark
    id (as the responsible generator does), then strip the credentials and tamper a copy.

    ``store``: a SQLite file or a database URL (default: ``manifests.sqlite`` in ``folder``).
    """
    from reelproof.core import Payload
    from reelproof.core.io import read_clip, write_clip
    from reelproof.provenance import (
        ManifestSpec,
        init_dev_pki,
        load_signer,
        open_manifest_store,
        record_signing,
        sign,
    )
    from reelproof.watermark import create_watermarker

    clip = read_clip(bikes_mp4, max_frames=40)
    payload = Payload.random(64)
    marked = clip.with_frames(create_watermarker("rp-ss").embed(clip.frames, payload))
    write_clip(marked, folder / "marked.mp4")
    pki = init_dev_pki(folder / "pki")
    result = sign(
        folder / "marked.mp4",
        folder / "signed.mp4",
        ManifestSpec(title="marked.mp4", watermark_id=payload.to_hex()),
        load_signer(pki.chain_pem, pki.key_pem),
    )
    store = store or folder / "manifests.sqlite"
    record_signing(open_manifest_store(store), result)
    write_clip(read_clip(folder / "signed.mp4"), folder / "stripped.mp4", crf=23)
    data = bytearray((folder / "signed.mp4").read_bytes())
    mdat = data.find(b"mdat")
    for i in range(mdat + 200, mdat + 260):  # change picture bytes the manifest hashed
        data[i] ^= 0x5A
    (folder / "tampered.mp4").write_bytes(bytes(data))
    return Clips(
        folder / "signed.mp4",
        folder / "stripped.mp4",
        folder / "tampered.mp4",
        payload.to_hex(),
        store,
        pki.root_pem,
    )
