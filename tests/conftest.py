"""Shared fixtures for every test package.

- Every test runs with ``REELPROOF_HOME`` pointed at its own temporary folder (autouse), so no
  test reads or writes a user's keys, manifests or database.
- Real footage (``data/video/*.mp4``, made by ``make data``) is reached through the
  ``real_video_paths`` / ``bikes_mp4`` / ``carphone_mp4`` / ``cgi_mp4`` fixtures. A missing file
  FAILS the test (CI runs ``make data`` first; a silent skip would hide a broken set-up).
- ``synthetic_clip`` is a small deterministic clip; ``make_video`` writes test files with PyAV
  directly (not through ReelProof's writer), for crafting VFR, rotated, audio-carrying or
  malformed inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from reelproof_test_media import VideoFactory, synthetic_frames, write_tone

REPO_ROOT = Path(__file__).resolve().parents[1]
VIDEO_DIR = REPO_ROOT / "data" / "video"
REAL_VIDEOS = {
    "bikes": "bikes.mp4",  # 640x272, 250 frames, 25 fps, street footage
    "carphone": "carphone_pristine.mp4",  # 176x144, 120 frames, 29.97 fps, a face
    "cgi": "cgi_bigbuckbunny.mp4",  # 1280x720, 132 frames, CGI, with AAC audio
}


@pytest.fixture(autouse=True)
def reelproof_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh, empty ReelProof state folder for every test."""
    home = tmp_path_factory.mktemp("reelproof-home")
    monkeypatch.setenv("REELPROOF_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def real_video_paths() -> dict[str, Path]:
    """Name -> path of each real clip; fails loudly when ``make data`` has not run."""
    paths = {name: VIDEO_DIR / file for name, file in REAL_VIDEOS.items()}
    missing = [str(p.relative_to(REPO_ROOT)) for p in paths.values() if not p.is_file()]
    if missing:
        pytest.fail(
            f"real footage missing: {', '.join(missing)}; run `make data` first", pytrace=False
        )
    return paths


@pytest.fixture(scope="session")
def bikes_mp4(real_video_paths: dict[str, Path]) -> Path:
    return real_video_paths["bikes"]


@pytest.fixture(scope="session")
def carphone_mp4(real_video_paths: dict[str, Path]) -> Path:
    return real_video_paths["carphone"]


@pytest.fixture(scope="session")
def cgi_mp4(real_video_paths: dict[str, Path]) -> Path:
    return real_video_paths["cgi"]


@pytest.fixture()
def synthetic_clip():  # type: ignore[no-untyped-def]
    """A 12-frame 96x64 clip at 25 fps (``reelproof.core.Clip``)."""
    from reelproof.core import Clip

    return Clip(frames=synthetic_frames(), fps=Fraction(25))


@pytest.fixture()
def make_video(tmp_path: Path) -> VideoFactory:
    """Write a test video with PyAV directly; returns its path.

    Keyword arguments: ``name`` (file name, decides the container unless ``fmt``), ``frames``
    ((n, H, W, 3) uint8, default synthetic), ``fps``, ``codec`` (PyAV encoder name), ``pts``
    (per-frame timestamps in milliseconds: makes a VFR file), ``rotation`` (display matrix,
    degrees counter-clockwise), ``audio_codec`` (adds a 440 Hz tone), ``fmt`` (muxer),
    ``pix_fmt``, ``options`` (encoder options), ``movflags``.
    """
    import av

    def make(
        name: str = "clip.mp4",
        frames: np.ndarray | None = None,
        fps: int | Fraction = 25,
        codec: str = "libx264",
        pts: Sequence[int] | None = None,
        rotation: int | None = None,
        audio_codec: str | None = None,
        fmt: str | None = None,
        pix_fmt: str = "yuv420p",
        options: dict[str, str] | None = None,
        movflags: str | None = None,
    ) -> Path:
        frames = synthetic_frames() if frames is None else frames
        path = tmp_path / name
        container_options = {"movflags": movflags} if movflags else {}
        with av.open(str(path), "w", format=fmt, options=container_options) as out:
            stream = out.add_stream(codec, rate=fps, options=options or {"preset": "ultrafast"})
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = pix_fmt
            if pts is not None:
                stream.codec_context.time_base = Fraction(1, 1000)
            if rotation is not None:
                stream.set_display_rotation(rotation)
            audio = None
            if audio_codec is not None:
                audio = out.add_stream(audio_codec, rate=48000, layout="stereo")
            for i, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                if pts is not None:
                    frame.pts = pts[i]
                    frame.time_base = Fraction(1, 1000)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
            if audio is not None:
                write_tone(out, audio, seconds=len(frames) / float(fps))
        return path

    return make


def _c2pa_fixture_dirs() -> list[Path]:
    """Where the C2PA fixtures of other implementations may be (see ../shared/c2pa-fixtures)."""
    import os

    found = (
        [Path(os.environ["REELPROOF_C2PA_FIXTURES"])]
        if "REELPROOF_C2PA_FIXTURES" in os.environ
        else []
    )
    # CI clones the repo beside shared/; a developer's worktree sits one folder deeper.
    return [
        *found,
        REPO_ROOT.parent / "shared" / "c2pa-fixtures",
        REPO_ROOT.parents[1] / "shared" / "c2pa-fixtures",
    ]


@pytest.fixture(scope="session")
def c2pa_fixtures() -> Path:
    """The read-only C2PA fixtures (c2pa-rs test files, MIT/Apache-2.0, (c) Adobe).

    Skipped with the reason when absent; under CI (``CI`` set) a missing folder fails instead,
    since CI always has shared/ beside the clone. Never write into it: copy files first.
    """
    import os

    for folder in _c2pa_fixture_dirs():
        if (folder / "trust" / "test_cert_root_bundle.pem").is_file():
            return folder
    reason = "C2PA fixtures not found beside the repository (../shared/c2pa-fixtures); set REELPROOF_C2PA_FIXTURES"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
