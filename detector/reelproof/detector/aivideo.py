"""Real generators' clips (``../shared/aivideo``) and the format controls that neutralise their
shortcuts.

The shared folder holds generated clips from many families and camera clips from other
sources, with a ``manifest.csv`` (file, label, family, generator, source_repo, ... notes). Its
README names the shortcuts a detector could learn instead of generation traces: about half of
the generated clips were palette GIFs (256 colours, dithering), they have lower frame rates and
smaller frames, and some carry logos. Two things neutralise them here:

- **controls**: every real clip is passed through the same chains (GIF palette at 8 fps, a
  downscale to a 256-pixel short side, both) and kept as *real*; training adds the same chains
  to generated clips, so "was a GIF" or "was resized" predicts neither label;
- **margins**: patches are taken away from the frame's outer border (``frames.MARGIN``), where
  generator logos and stream overlays sit.

Layout written by ``build_controls`` (the source id is the part before ``__``; family folder
names follow ``datasets.discover``'s per-generator layout)::

    OUT/<variant>/real/<source>__<name>.mp4
    OUT/<variant>/<family>/<family>__<name>.mp4
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.core import ConfigError
from reelproof.detector.datasets import LabeledVideo

UInt8Array = npt.NDArray[np.uint8]
Log = Callable[[str], None]

# Families whose clips show faces made or changed by a generator: the face head's positives.
FACE_FAMILIES = (
    "faceswap-deepfacelive",
    "talkinghead-sadtalker",
    "talkinghead-aniportrait",
    "talkinghead-geneface",
)
GIF_FPS = Fraction(8)
SMALL_SIDE = 256
CONTROL_CRF = 18  # the shared clips' own encoding


@dataclass(frozen=True)
class Variant:
    """A format chain applied to a clip (real and generated alike).

    Attributes:
        name: folder name.
        gif: quantise to a 256-colour palette with Floyd-Steinberg dithering, at ``GIF_FPS``.
        small: downscale (area) so the short side is ``SMALL_SIDE`` (never upscale).
    """

    name: str
    gif: bool = False
    small: bool = False


VARIANTS = (
    Variant("gif8", gif=True),
    Variant("small", small=True),
    Variant("small_gif8", gif=True, small=True),
)


def read_manifest(root: Path) -> list[LabeledVideo]:
    """The clips of an aivideo-style folder as ``LabeledVideo`` rows.

    Generated clips take their family as source id (a split by source is then a split by
    family); camera clips take the repository they came from.

    Raises:
        ConfigError: no ``manifest.csv`` under ``root``.
    """
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        raise ConfigError(
            f"{manifest}: no such file",
            hint="point --aivideo at the shared aivideo folder (it holds manifest.csv)",
        )
    out = []
    with manifest.open(newline="") as handle:
        for row in csv.DictReader(handle):
            path = root / row["file"]
            if row["label"] == "ai":
                out.append(LabeledVideo(path, 1, row["family"], row["family"]))
            else:
                out.append(LabeledVideo(path, 0, "real", source_id(row["source_repo"])))
    return out


def source_id(repo: str) -> str:
    """A file-name-safe source id from a repository name (``owner/name`` -> ``owner_name``)."""
    return repo.replace("/", "_").replace("__", "_")


def gif_palette(frames: UInt8Array) -> UInt8Array:
    """Frames as an animated GIF writer leaves them: one adaptive 256-colour palette (median
    cut over the first frame), every frame mapped to it with Floyd-Steinberg dithering.

    Args:
        frames: (T, H, W, 3) uint8 RGB.

    Returns:
        (T, H, W, 3) uint8 RGB.
    """
    from PIL import Image

    first = Image.fromarray(np.ascontiguousarray(frames[0]))
    palette = first.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = np.empty_like(frames)
    for i, frame in enumerate(frames):
        image = Image.fromarray(np.ascontiguousarray(frame))
        quantised = image.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
        out[i] = np.asarray(quantised.convert("RGB"))
    return out


def downscale(frames: UInt8Array, short_side: int = SMALL_SIDE) -> UInt8Array:
    """Area-downscale (T, H, W, 3) frames so the short side is ``short_side`` (even sizes)."""
    import cv2

    h, w = frames.shape[1:3]
    scale = short_side / min(h, w)
    if scale >= 1.0:
        return frames
    size = (max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


def drop_frames(frames: UInt8Array, fps: Fraction, target: Fraction) -> tuple[UInt8Array, Fraction]:
    """Keep every k-th frame so the rate is about ``target`` (no change when already lower)."""
    step = max(1, round(float(fps / target)))
    return np.ascontiguousarray(frames[::step]), fps / step


def apply_variant(
    frames: UInt8Array, fps: Fraction, variant: Variant
) -> tuple[UInt8Array, Fraction]:
    """Run one format chain: frame-rate drop and palette for GIFs, then the downscale."""
    if variant.gif:
        frames, fps = drop_frames(frames, fps, GIF_FPS)
    if variant.small:
        frames = downscale(frames)
    if variant.gif:
        frames = gif_palette(frames)
    return frames, fps


def build_controls(
    videos: Sequence[LabeledVideo],
    out_dir: Path,
    variants: Sequence[Variant] = VARIANTS,
    log: Log | None = None,
) -> dict[str, list[LabeledVideo]]:
    """Write every variant of every clip (cached: existing files are kept).

    Returns:
        Variant name -> the written clips, with the labels, families and sources of their
        originals.
    """
    from reelproof.core.io import VideoWriter, read_clip

    out: dict[str, list[LabeledVideo]] = {v.name: [] for v in variants}
    for n, video in enumerate(videos):
        clip = None
        for variant in variants:
            folder = "real" if video.label == 0 else video.family
            dst = out_dir / variant.name / folder / f"{video.source}__{video.path.stem}.mp4"
            if not dst.is_file():
                clip = clip or read_clip(video.path)
                frames, fps = apply_variant(np.asarray(clip.frames), clip.fps, variant)
                dst.parent.mkdir(parents=True, exist_ok=True)
                h, w = frames.shape[1:3]
                with VideoWriter(dst, fps=fps, width=w, height=h, crf=CONTROL_CRF) as writer:
                    writer.write(frames)
            out[variant.name].append(LabeledVideo(dst, video.label, video.family, video.source))
        if log is not None and (n + 1) % 25 == 0:
            log(f"controls: {n + 1}/{len(videos)} clips")
    return out
