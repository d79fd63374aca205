"""The large false-positive check of ``reelproof eval watermark`` (issue 20).

Unmarked material (the real footage of ``make data`` and every clip of the shared real and
AI-generated folders) is cut into 8-frame segments overlapping by half; each segment is read as
it is, as an off-centre crop, as a small crop of 64-96 px and rescaled, each time by the
complete rp-ss detector (every tile size, the key-independent lattice search and its
candidates, every shift, flip and look), exactly as ``detect`` would. Unmarked stills (real
photos, transformed, and the 51-MP HEIC fixture through every path of the bounded analysis of
large pictures) are read as ``detect_still`` reads them. A detection at the reported threshold
on any of them is a false positive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.eval import metrics
from reelproof.watermark import Keyring, WatermarkKey, WatermarkReading, detect_frames
from reelproof.watermark.rpss import (
    RpSsConfig,
    StreamDetector,
    fixed_hypothesis_z,
    n_looks,
    z_threshold,
)

SEGMENT = 8
HOP = 4  # segments overlap by half: more trials from the same footage, each a distinct input
_SMALL = ((64, 64), (96, 80), (72, 96))
_RESCALE = (0.5, 0.75, 1.5)


@dataclass
class NullResult:
    """Counts of the unmarked trials."""

    trials: int = 0
    detections: int = 0
    not_evaluable: int = 0
    max_z: list[float] = field(default_factory=list)
    fixed_z: list[float] = field(default_factory=list)
    hypotheses: int = 0
    by_material: dict[str, list[int]] = field(default_factory=dict)  # -> [trials, detections]
    by_variant: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0


def null_materials(data: Path, shared: Path) -> list[tuple[str, Path]]:
    """(material label, file) of every unmarked clip available."""
    found = [("make data footage", p) for p in sorted(data.glob("*.mp4"))]
    for kind in ("real", "ai"):
        label = f"shared {kind} clips"
        found += [(label, p) for p in sorted((shared / kind).glob("*.mp4"))]
    return found


def _variants(
    frames: npt.NDArray[np.uint8], index: int
) -> Iterator[tuple[str, npt.NDArray[np.uint8]]]:
    """The segment as it is, an off-centre crop (77 % a side), a small crop, a rescaled copy,
    a copy turned by 3 degrees (black corners) and one squeezed to 3/4 of its width."""
    import cv2

    height, width = frames.shape[1:3]
    yield "as decoded", frames
    side_h, side_w = max(64, int(height * 0.77)), max(64, int(width * 0.77))
    top = (index * 37) % max(1, height - side_h + 1)
    left = (index * 53) % max(1, width - side_w + 1)
    yield (
        "off-centre crop",
        np.ascontiguousarray(frames[:, top : top + side_h, left : left + side_w]),
    )
    small_h, small_w = _SMALL[index % len(_SMALL)]
    if height >= small_h and width >= small_w:
        top, left = (height - small_h) // 3, (width - small_w) // 2
        yield (
            "small crop (64-96 px)",
            np.ascontiguousarray(frames[:, top : top + small_h, left : left + small_w]),
        )
    factor = _RESCALE[index % len(_RESCALE)]
    size = (max(64, round(width * factor)), max(64, round(height * factor)))
    if size[0] * size[1] <= 1920 * 1080:
        inter = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        yield (
            "rescaled (0.5, 0.75, 1.5x)",
            np.stack([cv2.resize(f, size, interpolation=inter) for f in frames]),
        )
    if min(height, width) >= 128:
        angle = 3.0 if index % 2 else -3.0
        matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
        yield (
            "turned +-3 degrees",
            np.stack([cv2.warpAffine(f, matrix, (width, height)) for f in frames]),
        )
        narrow = (max(64, round(width * 0.75)), height)
        yield (
            "squeezed to 3/4 width",
            np.stack([cv2.resize(f, narrow, interpolation=cv2.INTER_AREA) for f in frames]),
        )


def run_null_trials(
    materials: list[tuple[str, Path]],
    load: Callable[[Path], npt.NDArray[np.uint8]],
    target: int,
    log: Callable[[str], None],
) -> NullResult:
    """Read unmarked segments until ``target`` trials are done (or the material runs out)."""
    import time

    started = time.perf_counter()
    config = RpSsConfig()
    key = WatermarkKey.demo()
    result = NullResult()
    # Segments are taken round-robin over the clips so that a short target still sees them all.
    clips = [(label, path, load(path)) for label, path in materials]
    rounds = max(((c[2].shape[0] - SEGMENT) // HOP + 1 for c in clips), default=0)
    for segment in range(rounds):
        for number, (label, path, frames) in enumerate(clips):
            start = segment * HOP
            if start + SEGMENT > frames.shape[0]:
                continue
            window = frames[start : start + SEGMENT]
            for variant, picture in _variants(window, number + segment):
                _trial(result, config, key, label, variant, picture, log, path)
            if result.trials >= target:
                result.seconds = time.perf_counter() - started
                return result
    result.seconds = time.perf_counter() - started
    return result


def _trial(
    result: NullResult,
    config: RpSsConfig,
    key: WatermarkKey,
    label: str,
    variant: str,
    picture: npt.NDArray[np.uint8],
    log: Callable[[str], None],
    path: Path,
) -> None:
    detector = StreamDetector([key], config, max_frames=SEGMENT)
    detector.update(np.ascontiguousarray(picture))
    reading = detector.reading()
    if _count(result, label, variant, reading, log, path):
        fixed = fixed_hypothesis_z(detector.acc, detector.layouts[0])
        if fixed is not None:
            result.fixed_z.append(fixed)


def _count(
    result: NullResult,
    label: str,
    variant: str,
    reading: WatermarkReading,
    log: Callable[[str], None],
    path: Path,
) -> bool:
    """Add one reading to the counts; False when it was not evaluable (not a trial)."""
    if not reading.evaluable:
        result.not_evaluable += 1
        return False
    result.trials += 1
    result.hypotheses = max(result.hypotheses, reading.hypotheses)
    result.max_z.append(float(reading.z))
    for table, name in ((result.by_material, label), (result.by_variant, variant)):
        counts = table.setdefault(name, [0, 0])
        counts[0] += 1
        counts[1] += int(reading.detected)
    if reading.detected:
        result.detections += 1
        log(f"FALSE POSITIVE: {path.name} {variant} z={reading.z:.2f} p={reading.p_value:.3g}")
    return True


def run_still_trials(
    result: NullResult,
    stills: Sequence[tuple[str, Path]],
    large: Path | None,
    log: Callable[[str], None],
) -> None:
    """Unmarked stills read as ``reelproof watermark detect`` reads them (``detect_frames``):
    photos as they are and transformed, and the large HEIC through every path of the bounded
    analysis (full decode, half-size decode, crops of several sizes). Counted in ``result``."""
    import time

    from reelproof.core.io import decode_still
    from reelproof.eval.watermark_stills import large_variants, still_variants

    started = time.perf_counter()
    ring = Keyring([WatermarkKey.demo()])
    for index, (label, path) in enumerate(stills):
        picture = decode_still(path)[0]
        for variant, frame in still_variants(picture, index):
            _count(result, label, variant, detect_frames(frame[None], ring), log, path)
    if large is not None and large.is_file():
        for variant, frame, shrunk in large_variants(large):
            reading = detect_frames(frame[None], ring, shrunk=shrunk)
            _count(result, "51-MP HEIC fixture", variant, reading, log, large)
            log(f"null {variant}: z={reading.z:.2f}")
    result.seconds += time.perf_counter() - started


def null_section(result: NullResult) -> list[str]:
    """Markdown lines of the large false-positive check."""
    config = RpSsConfig()
    threshold = z_threshold(config.p_threshold, max(result.hypotheses, 1))
    upper = metrics.clopper_pearson_upper(result.detections, max(result.trials, 1))
    lines = [
        "## False positives of the full search (issue 20)\n",
        f"**{result.trials:,} unmarked trials, {result.detections} detections** at the reported "
        f"threshold (corrected p < {config.p_threshold:g}, i.e. z > {threshold:.2f} for "
        f"{result.hypotheses:,} hypotheses: shifts x sub-pixel offsets x flips x geometries, "
        "listed and measured, of both tile sizes x looks). A video trial is an 8-frame segment "
        "read by the complete default detector with the demo key; a still trial is one picture "
        "read as `reelproof watermark detect` reads it (fewer looks, so fewer hypotheses and a "
        f"lower threshold: z > {z_threshold(config.p_threshold, _still_hypotheses(result)):.2f})"
        f". {result.not_evaluable} flat inputs were not evaluable and are not counted. 95 % "
        f"upper bound on the per-trial false-positive rate: {upper:.1e}. Run time: "
        f"{result.seconds / 60:.1f} min.\n",
    ]
    if result.max_z:
        z = np.array(result.max_z)
        fixed = np.array(result.fixed_z) if result.fixed_z else np.zeros(1)
        lines.append(
            f"- largest z over all trials: {z.max():.2f}; median {float(np.median(z)):.2f}; "
            f"the maximum of that many N(0, 1) values is typically near "
            f"{_typical_max(result.hypotheses):.2f}."
        )
        lines.append(
            f"- one fixed hypothesis (scale 1, no shift) over {fixed.size:,} trials: mean "
            f"{float(np.mean(fixed)):.3f}, std {float(np.std(fixed)):.3f} (N(0, 1) expected)."
        )
        lines.append("")
    for title, table in (("material", result.by_material), ("variant", result.by_variant)):
        lines.append(f"| {title} | trials | detections |")
        lines.append("|---|---|---|")
        for name, (trials, hits) in table.items():
            lines.append(f"| {name} | {trials:,} | {hits} |")
        lines.append("")
    return lines


def _still_hypotheses(result: NullResult) -> int:
    """Hypotheses of a one-frame reading: a segment's, with one frame's looks."""
    return max(1, result.hypotheses * n_looks(1) // n_looks(SEGMENT))


def _typical_max(hypotheses: int) -> float:
    from scipy.stats import norm

    return float(norm.isf(1.0 / max(hypotheses, 2))) if hypotheses else math.nan
