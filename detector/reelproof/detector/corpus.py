"""Build the offline training/evaluation corpus: real clips and decoder reconstructions.

Real clips come from the project's real footage (``data/video``, ``data/photos``; see
``scripts/fetch_data.py``). Every fake clip is a real clip passed frame by frame through one of
the decoder families in ``decoders.py``, so real and fake share content, size, frame rate and
encoding (H.264, same CRF and preset, through ``reelproof.core.io``); only the generative trace
differs. Photos become short clips by an integer-pixel pan (no resampling).

Layout written (GenVideo-style, what ``reelproof detector train --data`` reads)::

    OUT/camera/real/<source>__<clip>.mp4
    OUT/camera/<family>/<source>__<clip>.mp4
    OUT/cgi/real/...  and  OUT/cgi/<family>/...   (CGI "not camera" slice, never trained on)
    OUT/corpus.json                              (sources, seeds, decoder quality)

The file-name part before ``__`` is the source id: splits group by it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.core import ConfigError
from reelproof.core.io import VideoWriter, read_clip
from reelproof.detector.decoders import DecoderTrainConfig

UInt8Array = npt.NDArray[np.uint8]

CLIP_FRAMES = 16
SCENE_CUT = 40.0  # mean absolute frame difference that marks a cut
# Photos of one scene share a source id, so a split never puts one view in training and the
# other in evaluation.
PHOTO_GROUPS = {
    "motorcycle_left": "motorcycle",
    "motorcycle_right": "motorcycle",
    "aero1": "aero",
    "aero3": "aero",
}
# Larger photos are centre-cropped (never resized: resampling would add a trace) so decoder
# reconstruction of the big opencv-doc photos stays cheap.
MAX_PHOTO_SIDE = 768
ENCODE_PRESET = "fast"


@dataclass(frozen=True)
class SourceClip:
    """One real clip before encoding.

    Attributes:
        source: source id (clips of one scene, photo pair or video share it).
        clip: clip id within the source.
        kind: "video", "photo" or "cgi".
        frames: (T, H, W, 3) uint8 RGB with H, W multiples of 16.
        fps: frame rate.
    """

    source: str
    clip: str
    kind: str
    frames: UInt8Array
    fps: Fraction


def crop16(frames: UInt8Array) -> UInt8Array:
    """Centre-crop (T, H, W, 3) frames so H and W are multiples of 16 (decoder strides)."""
    h, w = frames.shape[1] // 16 * 16, frames.shape[2] // 16 * 16
    y, x = (frames.shape[1] - h) // 2, (frames.shape[2] - w) // 2
    return np.ascontiguousarray(frames[:, y : y + h, x : x + w])


def video_sources(path: Path, name: str, kind: str, clips_per_scene: int = 2) -> list[SourceClip]:
    """Split a video into scenes (one source each) and take up to two 16-frame clips per scene."""
    clip = read_clip(path)
    frames = np.asarray(clip.frames)
    diffs = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    cuts = [0, *(int(i) + 1 for i in np.flatnonzero(diffs > SCENE_CUT)), frames.shape[0]]
    out: list[SourceClip] = []
    for scene, (start, end) in enumerate(itertools.pairwise(cuts)):
        n_clips = min(clips_per_scene, (end - start) // CLIP_FRAMES)
        source = f"{name}_s{scene}" if len(cuts) > 2 else name
        for k in range(n_clips):
            s = start + k * ((end - start) // max(n_clips, 1))
            out.append(
                SourceClip(
                    source=source,
                    clip=f"c{k}",
                    kind=kind,
                    frames=crop16(frames[s : s + CLIP_FRAMES]),
                    fps=clip.fps,
                )
            )
    return out


def _centre_crop(clip: SourceClip, height: int, width: int) -> SourceClip:
    f = clip.frames
    y, x = max(0, (f.shape[1] - height) // 2), max(0, (f.shape[2] - width) // 2)
    frames = np.ascontiguousarray(f[:, y : y + height, x : x + width])
    return SourceClip(clip.source, clip.clip, clip.kind, frames, clip.fps)


def photo_source(path: Path, n_frames: int = CLIP_FRAMES) -> SourceClip:
    """A photo as a short clip: a window panning one pixel per frame (no resampling)."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    margin = n_frames
    keep_h, keep_w = (min(side, MAX_PHOTO_SIDE + margin) for side in rgb.shape[:2])
    top, left = (rgb.shape[0] - keep_h) // 2, (rgb.shape[1] - keep_w) // 2
    rgb = rgb[top : top + keep_h, left : left + keep_w]
    h = (rgb.shape[0] - margin) // 16 * 16
    w = (rgb.shape[1] - margin) // 16 * 16
    frames = np.stack([rgb[i : i + h, i : i + w] for i in range(n_frames)])
    stem = path.stem
    return SourceClip(
        source=PHOTO_GROUPS.get(stem, stem),
        clip=stem,
        kind="photo",
        frames=frames,
        fps=Fraction(25),
    )


def real_sources(data_dir: Path) -> list[SourceClip]:
    """All real clips from ``data_dir`` (``video/*.mp4`` and ``photos/*``; ``make data-extra``
    adds the opencv-doc photos and videos).

    Raises:
        ConfigError: the data folder is missing (run ``make data``).
    """
    video_dir, photo_dir = data_dir / "video", data_dir / "photos"
    if not video_dir.is_dir():
        raise ConfigError(f"{video_dir}: no such folder", hint="run `make data` first")
    out: list[SourceClip] = []
    for path in sorted(video_dir.glob("*.mp4")):
        kind = "cgi" if path.stem.startswith("cgi_") else "video"
        clips = video_sources(path, path.stem, kind, clips_per_scene=1 if kind == "cgi" else 2)
        if kind == "cgi":  # centre 640x368 window (a crop, not a resize) keeps decoding cheap
            clips = [_centre_crop(c, 368, 640) for c in clips]
        out += clips
    for path in sorted(photo_dir.glob("*")) if photo_dir.is_dir() else []:
        if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
            out.append(photo_source(path))
    return out


def write_frames(path: Path, frames: UInt8Array, fps: Fraction, crf: int) -> Path:
    """Encode (T, H, W, 3) uint8 frames as H.264 with the corpus's fixed settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(
        path, fps=fps, width=frames.shape[2], height=frames.shape[1], crf=crf, preset=ENCODE_PRESET
    ) as writer:
        writer.write(frames)
    return path


def build_corpus(
    data_dir: Path,
    out_dir: Path,
    families: Sequence[str] | None = None,
    seed: int = 0,
    crf: int = 18,
    steps: int = 200,
    log: Callable[[str], None] = print,
) -> Path:
    """Train one small autoencoder per decoder family and write the real/fake corpus.

    Args:
        data_dir: the project's ``data`` folder.
        out_dir: where to write (see the module docs for the layout).
        families: decoder families (default: all of ``decoders.FAMILIES``).
        seed: seeds decoder training (runs repeat exactly on one thread).
        crf: H.264 CRF for every clip, real and fake alike.
        steps: training steps per decoder.
        log: progress sink.

    Returns:
        ``out_dir``.
    """
    import torch

    from reelproof.detector.decoders import FAMILIES, reconstruct, train_decoder

    torch.set_num_threads(1)
    families = tuple(families or FAMILIES)
    sources = real_sources(data_dir)
    camera = [s for s in sources if s.kind != "cgi"]
    # Decoders learn from every 4th frame of every camera clip: they are the "generators"; what
    # they saw is content, not labels, and the same for real and fake.
    train_frames = [f for s in camera for f in s.frames[::4]]
    manifest: dict[str, object] = {
        "seed": seed,
        "crf": crf,
        "preset": ENCODE_PRESET,
        "clip_frames": CLIP_FRAMES,
        "sources": sorted({s.source for s in sources}),
        "kinds": {s.source: s.kind for s in sources},
        "families": {},
    }
    for s in sources:
        slice_dir = out_dir / ("cgi" if s.kind == "cgi" else "camera")
        write_frames(slice_dir / "real" / f"{s.source}__{s.clip}.mp4", s.frames, s.fps, crf)
    for index, family in enumerate(families):
        start = time.monotonic()
        cfg = family_config(family, steps)
        model = train_decoder(family, train_frames, seed=seed + index, cfg=cfg)
        psnrs = []
        for s in sources:
            fake = reconstruct(model, s.frames, multiple=2**cfg.levels)
            psnrs.append(_psnr(s.frames, fake))
            slice_dir = out_dir / ("cgi" if s.kind == "cgi" else "camera")
            write_frames(slice_dir / family / f"{s.source}__{s.clip}.mp4", fake, s.fps, crf)
        took = time.monotonic() - start
        manifest["families"][family] = {  # type: ignore[index]
            "mean_psnr_db": round(float(np.mean(psnrs)), 2),
            "train_steps": steps,
            "seconds": round(took, 1),
        }
        log(f"{family}: PSNR {np.mean(psnrs):.1f} dB, {took:.0f} s")
    (out_dir / "corpus.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out_dir


def family_config(family: str, steps: int) -> DecoderTrainConfig:
    """Training settings per family: the KL-VAE is ~20x costlier per pixel, so it trains
    narrower, on smaller crops, to keep corpus building within minutes on one core."""
    if family == "vae_kl":
        return DecoderTrainConfig(width=8, steps=steps, batch=8, crop=48)
    return DecoderTrainConfig(width=16, steps=steps, batch=8)


def _psnr(a: UInt8Array, b: UInt8Array) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 10.0 * float(np.log10(255.0**2 / max(mse, 1e-6)))


@dataclass(frozen=True)
class Variant:
    """A re-encoding/resampling applied identically to real and fake clips.

    Attributes:
        name: folder name.
        crf: H.264 CRF of the re-encode.
        scale: spatial scale factor (1.0: no resampling).
        interp: torch interpolation mode ("area", "bilinear", "bicubic").
    """

    name: str
    crf: int
    scale: float = 1.0
    interp: str = "bilinear"


# Seen in training (augmentation) for the default model.
TRAIN_VARIANTS = (
    Variant("crf23", 23),
    Variant("down0.75_area_crf20", 20, 0.75, "area"),
    Variant("up1.5_bicubic_crf20", 20, 1.5, "bicubic"),
)
# Evaluated for robustness (CRF 28 and x0.5 bilinear are never seen in training).
EVAL_VARIANTS = (
    Variant("crf23", 23),
    Variant("crf28", 28),
    Variant("down0.5_bilinear_crf23", 23, 0.5, "bilinear"),
    Variant("down0.75_area_crf20", 20, 0.75, "area"),
    Variant("up1.5_bicubic_crf20", 20, 1.5, "bicubic"),
)


def resample(frames: UInt8Array, scale: float, interp: str) -> UInt8Array:
    """Resize (T, H, W, 3) uint8 frames by ``scale`` (sizes rounded to even numbers)."""
    import torch

    if scale == 1.0:
        return frames
    h = max(2, round(frames.shape[1] * scale / 2) * 2)
    w = max(2, round(frames.shape[2] * scale / 2) * 2)
    x = torch.from_numpy(np.array(frames)).permute(0, 3, 1, 2).float()
    kwargs: dict[str, Any] = {} if interp == "area" else {"align_corners": False}
    if interp in ("bilinear", "bicubic") and scale < 1.0:
        kwargs["antialias"] = True  # what ffmpeg/PIL downscalers do
    y = torch.nn.functional.interpolate(x, size=(h, w), mode=interp, **kwargs)
    return y.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def write_variant(src: Path, dst: Path, variant: Variant) -> Path:
    """Decode ``src``, resample it and re-encode it at the variant's CRF (cached by path)."""
    if dst.exists():
        return dst
    clip = read_clip(src)
    frames = resample(np.asarray(clip.frames), variant.scale, variant.interp)
    return write_frames(dst, frames, clip.fps, variant.crf)


def build_variants(
    corpus_slice: Path,
    out_root: Path,
    variants: Sequence[Variant],
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Write every variant of every clip under ``corpus_slice`` to ``out_root/<variant>/``.

    Returns:
        The variant roots, one per variant, each in the corpus layout.
    """
    roots = []
    sources = sorted(corpus_slice.rglob("*.mp4"))
    for variant in variants:
        root = out_root / variant.name
        for src in sources:
            write_variant(src, root / src.relative_to(corpus_slice), variant)
        roots.append(root)
        log(f"variant {variant.name}: {len(sources)} clips")
    return roots
