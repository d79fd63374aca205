"""Out-of-domain slices of ``reelproof eval detector``: camera sources the detector never saw
(``make data`` photos and, with ``make data-extra``, opencv-doc's), turned into stills recorded
as movies, photo pans (plain, heavily compressed, vertical with bars), slideshows, boxed
camera video and camera video behind a black + fade-in intro; CGI as "not camera"; and how
many shared clips the panned-still screening rule would wrongly stop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

EXTRA_VIDEOS = ("vtest", "tree")  # opencv-doc's camera videos (``make data-extra``)

Log = Callable[[str], None]


@dataclass(frozen=True)
class OodScore:
    """The shipped detector's reading of one out-of-domain clip."""

    slice: str
    name: str
    label: str
    p_synthetic: float | None
    code: str | None


def write_clip(path: Path, frames: np.ndarray, fps: int = 25, crf: int = 18) -> Path:
    from reelproof.core.io import VideoWriter

    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        h, w = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
        with VideoWriter(path, fps=Fraction(fps), width=w, height=h, crf=crf) as writer:
            writer.write(np.ascontiguousarray(frames[:, :h, :w]))
    return path


def _photo(path: Path, side: int = 720) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    h, w = rgb.shape[:2]
    y, x = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return np.ascontiguousarray(rgb[y : y + side, x : x + side])


def _pan(rgb: np.ndarray, n: int = 50) -> np.ndarray:
    h, w = rgb.shape[0] - n, rgb.shape[1] - n
    return np.stack([rgb[i : i + h, i : i + w] for i in range(n)])


def _boxed(frames: np.ndarray, vertical: bool) -> np.ndarray:
    t, h, w = frames.shape[:3]
    if vertical:  # a 9:16 canvas, the picture in the middle with bars above and below
        canvas = np.zeros((t, w * 16 // 9 // 2 * 2, w, 3), np.uint8)
        top = (canvas.shape[1] - h) // 2
        canvas[:, top : top + h] = frames
    else:  # pillarbox into 16:9
        canvas = np.zeros((t, h, h * 16 // 9 // 2 * 2, 3), np.uint8)
        left = (canvas.shape[2] - w) // 2
        canvas[:, :, left : left + w] = frames
    return canvas


def with_intro(frames: np.ndarray, black: int, fade: int) -> np.ndarray:
    """``black`` black frames, then ``fade`` frames fading in on the first frame held still,
    then the clip (how edited news clips often open)."""
    first = frames[0].astype(np.float32)
    ramp = [(first * (i + 1) / (fade + 1)).astype(np.uint8) for i in range(fade)]
    return np.concatenate([np.zeros((black, *frames.shape[1:]), np.uint8), np.stack(ramp), frames])


def out_of_domain(detector: Any, data_dir: Path, work_dir: Path, log: Log) -> list[OodScore]:
    """The shipped detector on camera sources it never saw, and on CGI."""
    from reelproof.core.io import read_clip

    folder = work_dir / "ood"
    clips: list[tuple[str, str, Path]] = []
    photos = sorted((data_dir / "photos").glob("*.*"))
    for photo in photos:
        rgb = _photo(photo)
        if min(rgb.shape[:2]) < 128:
            continue
        clips.append(
            (
                "still (photo as a 5-s movie)",
                photo.stem,
                write_clip(folder / "still" / f"{photo.stem}.mp4", np.stack([rgb] * 125)),
            )
        )
        pan = _pan(rgb)
        clips.append(
            ("photo pan", photo.stem, write_clip(folder / "pan" / f"{photo.stem}.mp4", pan))
        )
        clips.append(
            (
                "photo pan, heavy compression (CRF 44)",
                photo.stem,
                write_clip(folder / "pan_crf44" / f"{photo.stem}.mp4", pan, crf=44),
            )
        )
        clips.append(
            (
                "photo pan, vertical 9:16 with bars",
                photo.stem,
                write_clip(folder / "pan_vertical" / f"{photo.stem}.mp4", _boxed(pan, True)),
            )
        )
    if len(photos) >= 3:
        shows = [_photo(p, 480) for p in photos[:12]]
        shows = [s for s in shows if s.shape[:2] == (480, 480)]
        for k in range(0, len(shows) - 2, 3):
            frames = np.stack([s for s in shows[k : k + 3] for _ in range(50)])
            clips.append(
                (
                    "slideshow",
                    f"photos {k}-{k + 2}",
                    write_clip(folder / "slideshow" / f"show{k}.mp4", frames),
                )
            )
    for name in EXTRA_VIDEOS:
        path = data_dir / "video" / f"{name}.mp4"
        if path.is_file():
            clips.append(("camera video (opencv-doc)", name, path))
            frames = np.asarray(read_clip(path, max_frames=100).frames)
            clips.append(
                (
                    "camera video, pillarboxed 16:9",
                    name,
                    write_clip(folder / "boxed" / f"{name}.mp4", _boxed(frames, False)),
                )
            )
            clips.append(
                (
                    "camera video after a 1-s black + 1-s fade-in intro",
                    name,
                    write_clip(folder / "intro" / f"{name}.mp4", with_intro(frames, 25, 25)),
                )
            )
    for path in sorted((data_dir / "video").glob("cgi_*.mp4")):
        clips.append(("CGI (not camera)", path.stem, path))
    log(f"out of domain: {len(clips)} clips")
    out = []
    for slice_name, name, path in clips:
        s = detector.score_file(path)
        out.append(OodScore(slice_name, name, s.label, s.p_synthetic, s.code))
    return out


def pan_check(videos: Any, max_frames: int, log: Log) -> dict[str, tuple[int, int]]:
    """How many shared clips the panned-still rule would make abstain, per class: camera clips
    must not (they are moving video), generated ones should not either (their camera moves
    are not rigid shifts of one picture)."""
    from reelproof.detector.frames import find_content_box, gray_u8
    from reelproof.detector.model import _as_rgb
    from reelproof.detector.pans import is_panned_still, pan_profile
    from reelproof.detector.sampling import sample_frames
    from reelproof.detector.screening import ScreenConfig

    share = ScreenConfig().pan_share
    out = {"camera": (0, 0), "generated": (0, 0)}
    for v in videos:
        frames = _as_rgb(sample_frames(v.path, max_frames)[0])
        gray = gray_u8(frames)
        panned = is_panned_still(
            pan_profile(gray, find_content_box(gray[:: max(1, len(gray) // 8)])), share
        )
        kind = "generated" if v.label == 1 else "camera"
        hits, total = out[kind]
        out[kind] = (hits + int(panned), total + 1)
    log(f"panned-still rule on the shared clips (flagged, total): {out}")
    return out
