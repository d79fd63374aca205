"""``reelproof eval watermark``: rp-ss beside the invisible-watermark baselines.

Writes ``docs/benchmarks/watermark.md`` (+ PNGs beside it):

- quality (luma PSNR, SSIM) per method, clip and resolution, and a zoomed crop of a flat region;
- robustness: every registered attack x method x resolution on real footage (``bikes.mp4``
  scaled and centre-cropped to 256p, 720p and 1080p) and a synthetic clip;
- false positives: unmarked windows (raw, re-encoded, resized, real, synthetic, flat, and clips
  marked with another key) scored with several keys; the largest z against the analytic null;
- speed on one core: embedding at 1080p, embed cost relative to libx264 ``medium``, detection of
  a 10-second 1080p file including decoding.

``--quick`` is the CI-sized run (256p, fewer frames, attacks and windows).
"""

from __future__ import annotations

import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.core.clip import Clip
from reelproof.core.payload import Payload
from reelproof.eval import metrics
from reelproof.eval.attacks import create_attack, transcode
from reelproof.watermark import Watermarker, WatermarkKey, create_watermarker
from reelproof.watermark.layout import make_layout
from reelproof.watermark.rpss import FoldAccumulator, RpSsConfig, fixed_hypothesis_z, score_key

PAYLOAD_HEX = "c0ffee0123456789"
FPS = Fraction(25)
RESOLUTIONS = {256: (456, 256), 720: (1280, 720), 1080: (1920, 1080)}
# The attacks of the first benchmark (the re-posting transforms have their own section).
ATTACKS = (
    "blur_1.0",
    "brightness_+20",
    "brightness_-20",
    "combined",
    "contrast_+20",
    "contrast_-20",
    "crop_50",
    "crop_90",
    "drop_every_2nd",
    "first_8_frames",
    "fps_30_to_24",
    "gamma_1.5",
    "h264_crf23",
    "h264_crf28",
    "h264_crf35",
    "h264_crf40",
    "h265_crf28",
    "hflip",
    "identity",
    "jpeg_50",
    "noise_5",
    "resize_0.25",
    "resize_0.5",
    "rotate_2",
    "saturation_0.5",
    "vp9_crf40",
)
QUICK_ATTACKS = (
    "identity",
    "h264_crf28",
    "h264_crf40",
    "resize_0.5",
    "crop_50",
    "jpeg_50",
    "first_8_frames",
    "combined",
    "hflip",
)


@dataclass(frozen=True)
class BenchSettings:
    """Size of one benchmark run."""

    quick: bool
    resolutions: tuple[int, ...]
    frames: int
    attacks: tuple[str, ...]
    baseline_frames: int
    baseline_resolutions: tuple[int, ...]
    baseline_attacks: tuple[str, ...]
    fpr_keys: int
    fpr_window: int
    fpr_synthetic: int
    speed_frames: int
    detect_file_seconds: int
    synthetic_resolutions: tuple[int, ...] = (256, 720)

    @classmethod
    def make(cls, quick: bool) -> BenchSettings:
        if quick:
            return cls(
                quick=True,
                resolutions=(256,),
                frames=32,
                attacks=QUICK_ATTACKS,
                baseline_frames=4,
                baseline_resolutions=(256,),
                baseline_attacks=("identity", "h264_crf28", "crop_50"),
                fpr_keys=2,
                fpr_window=8,
                fpr_synthetic=40,
                speed_frames=12,
                detect_file_seconds=3,
            )
        return cls(
            quick=False,
            resolutions=(256, 720, 1080),
            frames=100,  # 4 seconds at 25 fps
            attacks=ATTACKS,
            baseline_frames=4,
            baseline_resolutions=(256, 720),
            baseline_attacks=ATTACKS,
            fpr_keys=4,
            fpr_window=8,
            fpr_synthetic=400,
            speed_frames=60,
            detect_file_seconds=10,
        )


@dataclass
class AttackRow:
    method: str
    clip: str
    resolution: int
    attack: str
    detected: bool
    exact: bool
    bit_acc: float
    p_value: float
    z: float
    frames_used: int
    evaluable: bool
    seconds: float


@dataclass
class QualityRow:
    method: str
    clip: str
    resolution: int
    psnr: float
    ssim: float
    embed_fps: float


@dataclass
class FprResult:
    trials: int = 0
    windows: int = 0
    detections: int = 0
    not_evaluable: int = 0
    max_z: list[float] = field(default_factory=list)
    fixed_z: list[float] = field(default_factory=list)
    hypotheses: int = 0
    by_source: dict[str, list[int]] = field(default_factory=dict)  # source -> [trials, detections]
    baseline_matches: dict[str, list[int]] = field(default_factory=dict)
    baseline_ones: dict[str, list[float]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Clips


def data_dir() -> Path:
    """Folder of the real footage (``make data``): ``$REELPROOF_DATA_DIR`` or ``./data/video``."""
    folder = Path(os.environ.get("REELPROOF_DATA_DIR", "data/video"))
    if not (folder / "bikes.mp4").is_file():
        from reelproof.core.errors import InputError

        raise InputError(f"real footage not found in {folder}", hint="run `make data` first")
    return folder


def fit_crop(frames: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """Scale (bicubic) to cover width x height, then centre-crop; (T, height, width, 3) uint8."""
    import cv2

    src_h, src_w = frames.shape[1:3]
    factor = max(width / src_w, height / src_h)
    size = (max(width, round(src_w * factor)), max(height, round(src_h * factor)))
    inter = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    out = np.empty((frames.shape[0], height, width, 3), dtype=np.uint8)
    for index, frame in enumerate(frames):
        big = cv2.resize(frame, size, interpolation=inter)
        top, left = (size[1] - height) // 2, (size[0] - width) // 2
        out[index] = big[top : top + height, left : left + width]
    return out


def synthetic_clip(count: int, width: int, height: int, seed: int = 7) -> npt.NDArray[np.uint8]:
    """A moving synthetic scene: smooth gradient sky, flat wall, textured ground, moving boxes."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.zeros((height, width, 3), dtype=np.float32)
    sky = ys < height * 0.4
    base[sky] = np.stack(
        [90 + 60 * ys[sky] / height, 140 + 50 * ys[sky] / height, 220 + 0 * ys[sky]], -1
    )
    wall = (~sky) & (xs < width * 0.45)
    base[wall] = (150.0, 140.0, 128.0)
    ground = (~sky) & (~wall)
    noise = rng.normal(0.0, 1.0, (height // 4 + 1, width // 4 + 1)).astype(np.float32)
    texture = np.kron(noise, np.ones((4, 4), dtype=np.float32))[:height, :width]
    base[ground] = 80.0 + 25.0 * texture[ground, None] * np.array([1.0, 0.9, 0.7])
    frames = np.empty((count, height, width, 3), dtype=np.uint8)
    box = max(8, height // 8)
    for t in range(count):
        frame = base.copy()
        for k, colour in enumerate(((220, 40, 40), (40, 200, 60), (250, 220, 30))):
            cx = int((width * (0.2 + 0.3 * k) + t * (3 + 2 * k) * width / 640) % (width - box))
            cy = int(height * (0.5 + 0.15 * math.sin(t / 9 + k)))
            cy = min(max(cy, 0), height - box)
            frame[cy : cy + box, cx : cx + box] = colour
        frames[t] = np.clip(frame + rng.normal(0, 1.0, frame.shape), 0, 255).astype(np.uint8)
    return frames


def load_real(path: Path, count: int | None = None) -> npt.NDArray[np.uint8]:
    """Decode a real clip with ``reelproof.core.io``; (T, H, W, 3) uint8."""
    from reelproof.core.io import read_clip

    return np.ascontiguousarray(read_clip(path, max_frames=count).frames)


# --------------------------------------------------------------------------------------------
# Robustness and quality


def _judge(
    method: str, reading: Any, threshold_bits: int
) -> tuple[bool, bool, float]:  # detected, exact, bit accuracy
    acc = metrics.bit_accuracy(reading.payload, PAYLOAD_HEX)
    exact = metrics.exact_match(reading.payload, PAYLOAD_HEX)
    if method == "rp-ss":
        return bool(reading.detected), exact and bool(reading.payload_verified), acc
    # Key-less baselines: "detected" = enough bits match the known id (fair-coin p < 1e-6).
    return acc * 64 >= threshold_bits, exact, acc


def run_robustness(
    settings: BenchSettings,
    clips: dict[str, Callable[[int, int], npt.NDArray[np.uint8]]],
    log: Callable[[str], None],
) -> tuple[list[AttackRow], list[QualityRow]]:
    """Embed with every method, attack, detect; returns per-attack rows and quality rows."""
    payload = Payload.from_hex(PAYLOAD_HEX, 64)
    threshold_bits = metrics.matching_bits_threshold(64, 1e-6)
    rows: list[AttackRow] = []
    quality: list[QualityRow] = []
    for resolution in settings.resolutions:
        width, height = RESOLUTIONS[resolution]
        for clip_name, make in clips.items():
            if clip_name == "synthetic" and resolution not in settings.synthetic_resolutions:
                continue
            source = make(width, height)
            for method in ("rp-ss", "dwtDct", "dwtDctSvd"):
                baseline = method != "rp-ss"
                if baseline and resolution not in settings.baseline_resolutions:
                    continue
                count = settings.baseline_frames if baseline else settings.frames
                frames = np.ascontiguousarray(source[:count])
                wm: Watermarker = create_watermarker(method)
                cpu = time.process_time()
                marked = wm.embed(frames, payload)
                fps = count / max(time.process_time() - cpu, 1e-9)
                n_ssim = min(count, 8)
                quality.append(
                    QualityRow(
                        method,
                        clip_name,
                        resolution,
                        metrics.psnr(frames, marked),
                        metrics.ssim(frames[:n_ssim], marked[:n_ssim]),
                        fps,
                    )
                )
                attacks = settings.baseline_attacks if baseline else settings.attacks
                if baseline and resolution != min(settings.baseline_resolutions):
                    # Baselines take seconds per frame in Python: a subset above 256p.
                    attacks = tuple(a for a in QUICK_ATTACKS if a in attacks)
                for attack_name in attacks:
                    started = time.perf_counter()
                    attacked = create_attack(attack_name)(Clip(frames=marked, fps=FPS))
                    reading = wm.detect(attacked.frames)
                    detected, exact, bit_acc = _judge(method, reading, threshold_bits)
                    rows.append(
                        AttackRow(
                            method,
                            clip_name,
                            resolution,
                            attack_name,
                            detected,
                            exact,
                            bit_acc,
                            float(reading.p_value),
                            float(reading.z),
                            int(reading.frames_used),
                            bool(reading.evaluable),
                            time.perf_counter() - started,
                        )
                    )
                    log(
                        f"{resolution}p {clip_name} {method} {attack_name}: det={detected} "
                        f"exact={exact} acc={bit_acc:.2f} p={reading.p_value:.2g} "
                        f"frames={reading.frames_used}"
                    )
    return rows, quality


# --------------------------------------------------------------------------------------------
# False positives


def _fpr_sources(settings: BenchSettings, folder: Path) -> list[tuple[str, npt.NDArray[np.uint8]]]:
    """Unmarked material: (label, frames) pairs, windowed later."""
    sources: list[tuple[str, npt.NDArray[np.uint8]]] = []
    limit = 64 if settings.quick else None
    for name in ("bikes.mp4", "carphone_pristine.mp4", "cgi_bigbuckbunny.mp4"):
        path = folder / name
        if not path.is_file():
            continue
        frames = load_real(path, limit)
        stem = path.stem
        sources.append((f"real {stem}", frames))
        clip = Clip(frames=frames, fps=FPS)
        sources.append((f"real {stem}, H.264 CRF 23", transcode(clip, "libx264", 23).frames))
        if not settings.quick:
            sources.append((f"real {stem}, H.264 CRF 35", transcode(clip, "libx264", 35).frames))
            sources.append((f"real {stem}, JPEG 50", create_attack("jpeg_50")(clip).frames))
        if min(frames.shape[1:3]) >= 256:
            half = create_attack("resize_0.5")(clip).frames
            sources.append((f"real {stem}, resized 0.5 and back", half))
    # Clips marked with ANOTHER key: must not cross-detect.
    other = create_watermarker("rp-ss", key=WatermarkKey.generate())
    bikes = next(f for label, f in sources if label == "real bikes")
    sources.append(("bikes marked with another key", other.embed(bikes, Payload.random(64))))
    return sources


def _synthetic_windows(count: int, window: int) -> list[tuple[str, npt.NDArray[np.uint8]]]:
    rng = np.random.default_rng(2024)
    out: list[tuple[str, npt.NDArray[np.uint8]]] = []
    for index in range(count):
        kind = index % 5
        height, width = (256, 256) if index % 2 else (272, 480)
        if kind == 0:
            frames = rng.integers(0, 256, (window, height, width, 3), dtype=np.uint8)
            label = "synthetic white noise"
        elif kind == 1:
            small = rng.normal(128, 40, (window, height // 8, width // 8, 1))
            frames = np.clip(np.kron(small, np.ones((1, 8, 8, 3))), 0, 255).astype(np.uint8)
            label = "synthetic blocky noise (8-px grid)"
        elif kind == 2:
            frames = synthetic_clip(window, width, height, seed=index)
            label = "synthetic scene"
        elif kind == 3:
            level = int(rng.integers(0, 256))
            frames = np.full((window, height, width, 3), level, dtype=np.uint8)
            label = "flat"
        else:
            ramp = np.linspace(0, 255, width, dtype=np.float32)[None, None, :, None]
            frames = np.broadcast_to(ramp, (window, height, width, 3)).astype(np.uint8).copy()
            frames = np.clip(frames + rng.normal(0, 0.5, frames.shape), 0, 255).astype(np.uint8)
            label = "synthetic gradient"
        out.append((label, frames))
    return out


def run_false_positives(
    settings: BenchSettings, folder: Path, log: Callable[[str], None]
) -> FprResult:
    """Score unmarked windows with ``fpr_keys`` keys (demo + random); count detections."""
    config = RpSsConfig()
    keys = [WatermarkKey.demo()] + [WatermarkKey.generate() for _ in range(settings.fpr_keys - 1)]
    # Every tile size of every key, as the detector tries them.
    layouts = [[make_layout(k, t, config.r_lo, config.r_hi) for t in config.tiles()] for k in keys]
    from reelproof.watermark.rpss import n_looks, p_value

    result = FprResult()
    windows: list[tuple[str, npt.NDArray[np.uint8]]] = []
    for label, frames in _fpr_sources(settings, folder):
        hop = settings.fpr_window // 2 if not settings.quick else settings.fpr_window
        for start in range(0, frames.shape[0] - settings.fpr_window + 1, hop):
            windows.append((label, frames[start : start + settings.fpr_window]))
    windows += _synthetic_windows(settings.fpr_synthetic, settings.fpr_window)
    looks = n_looks(settings.fpr_window)
    threshold_bits = metrics.matching_bits_threshold(64, 1e-6)
    truth = metrics.hex_bits(PAYLOAD_HEX)
    assert truth is not None
    baseline_every = 8 if not settings.quick else 4
    for index, (label, frames) in enumerate(windows):
        acc = FoldAccumulator(config)
        for frame in frames:
            acc.add_frame(frame)
        result.windows += 1
        stats = result.by_source.setdefault(label, [0, 0])
        if acc.frames_used == 0:
            result.not_evaluable += 1
            continue
        for per_key in layouts:
            scores = [score_key(acc, layout, config.search_flip) for layout in per_key]
            found = [sc for sc in scores if sc is not None]
            if not found:
                result.not_evaluable += 1
                continue
            score = max(found, key=lambda sc: sc.z)
            layout = per_key[0]
            hypotheses = score.n_tests * looks
            result.hypotheses = hypotheses
            p = p_value(score.z, hypotheses)
            result.trials += 1
            stats[0] += 1
            result.max_z.append(score.z)
            fixed = fixed_hypothesis_z(acc, layout)
            if fixed is not None:
                result.fixed_z.append(fixed)
            if p < config.p_threshold:
                result.detections += 1
                stats[1] += 1
                log(f"FALSE POSITIVE on {label} window {index}: z={score.z:.2f} p={p:.3g}")
        # Baselines on a subset of windows: do unmarked bits match a known id? Are they biased?
        if index % baseline_every == 0 and frames.shape[1] * frames.shape[2] >= 256 * 256:
            for method in ("dwtDct", "dwtDctSvd"):
                reading = create_watermarker(method).detect(frames[:2])
                bits = metrics.hex_bits(reading.payload)
                if bits is None:
                    continue
                matches = result.baseline_matches.setdefault(method, [0, 0])
                matches[0] += 1
                matches[1] += int(np.sum(bits == truth) >= threshold_bits)
                result.baseline_ones.setdefault(method, []).append(float(np.mean(bits)))
    log(f"false-positive run: {result.trials} trials, {result.detections} detections")
    return result


# --------------------------------------------------------------------------------------------
# Speed


@dataclass
class SpeedResult:
    embed_fps_1080: float = math.nan  # from process CPU time (one thread)
    x264_fps_1080: float = math.nan  # from process CPU time (one encoder thread)
    embed_fps_wall: float = math.nan
    x264_fps_wall: float = math.nan
    detect_marked_cpu_s: float = math.nan
    detect_unmarked_cpu_s: float = math.nan
    detect_marked_s: float = math.nan
    detect_marked_frames: int = 0
    detect_unmarked_s: float = math.nan
    detect_unmarked_frames: int = 0
    file_seconds: int = 0
    baseline_fps: dict[str, float] = field(default_factory=dict)
    bare_decode_cpu_s: float = math.nan  # decoding the same frames, nothing else
    bare_rgb_cpu_s: float = math.nan  # decoding and converting them to RGB
    file_frames: int = 0


def _x264_fps(frames: npt.NDArray[np.uint8]) -> tuple[float, float]:
    import io

    import av

    buffer = io.BytesIO()
    container = av.open(buffer, mode="w", format="mp4")
    stream = container.add_stream("libx264", rate=25)
    stream.width, stream.height = frames.shape[2], frames.shape[1]
    stream.pix_fmt = "yuv420p"
    stream.thread_count = 1
    stream.options = {"crf": "23", "preset": "medium", "threads": "1"}
    started, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    count = frames.shape[0]
    return count / (time.process_time() - cpu), count / (time.perf_counter() - started)


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(CPU seconds, wall seconds, result) of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.process_time() - cpu, time.perf_counter() - started, value


def _bare_decode(path: Path, frames: int) -> int:
    """Decode the first ``frames`` frames through the same safe reader, keeping nothing."""
    from reelproof.watermark.files import iter_luma

    count = 0
    for _ in iter_luma(path, frames):
        count += 1
    return count


def _rgb_decode(path: Path, frames: int) -> int:
    """Decode and convert to RGB the first ``frames`` frames (what ``iter_chunks`` costs)."""
    from reelproof.core.io import iter_chunks

    return sum(len(chunk) for chunk in iter_chunks(path, chunk_frames=8, max_frames=frames))


def run_speed(
    settings: BenchSettings, real_1080: npt.NDArray[np.uint8], log: Callable[[str], None]
) -> SpeedResult:
    """Embedding and detection speed at 1080p on one core."""
    import cv2

    # One core: OpenCV (used by the embedder) would otherwise spread work over its thread pool.
    cv2_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _run_speed(settings, real_1080, log)
    finally:
        cv2.setNumThreads(cv2_threads)


def _run_speed(
    settings: BenchSettings, real_1080: npt.NDArray[np.uint8], log: Callable[[str], None]
) -> SpeedResult:
    from reelproof.core.io import VideoWriter
    from reelproof.watermark import Keyring, detect_file
    from reelproof.watermark.files import DEFAULT_FILE_FRAMES

    result = SpeedResult(file_seconds=settings.detect_file_seconds)
    payload = Payload.from_hex(PAYLOAD_HEX, 64)
    wm = create_watermarker("rp-ss")
    frames = np.ascontiguousarray(real_1080[: settings.speed_frames])
    wm.embed(frames[:2], payload)  # warm the pattern cache, as a long video would
    best, best_cpu = math.inf, math.inf
    for _ in range(2):
        started, cpu = time.perf_counter(), time.process_time()
        wm.embed(frames, payload)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best = min(best, time.perf_counter() - started)
    result.embed_fps_1080 = frames.shape[0] / best_cpu
    result.embed_fps_wall = frames.shape[0] / best
    result.x264_fps_1080, result.x264_fps_wall = _x264_fps(frames)
    log(f"embed {result.embed_fps_1080:.1f} fps (CPU), x264 medium {result.x264_fps_1080:.1f} fps")
    total = settings.detect_file_seconds * 25
    reps = -(-total // real_1080.shape[0])
    long_frames = np.concatenate([real_1080] * reps)[:total]
    with tempfile.TemporaryDirectory() as tmp:
        marked_path, plain_path = Path(tmp) / "marked.mp4", Path(tmp) / "plain.mp4"
        for path, mark in ((marked_path, True), (plain_path, False)):
            with VideoWriter(path, FPS, 1920, 1080, crf=23, preset="ultrafast") as writer:
                for start in range(0, total, 25):
                    chunk = long_frames[start : start + 25]
                    writer.write(wm.embed(chunk, payload) if mark else chunk)
        ring = Keyring([WatermarkKey.demo()])
        detect_file(marked_path, ring)  # warm caches (layouts, FFT plans), as a service would
        result.file_frames = DEFAULT_FILE_FRAMES
        marked_runs, plain_runs, bare_runs, rgb_runs = [], [], [], []
        for _ in range(3):  # best of three: a shared machine only ever adds time
            marked_runs.append(_timed(lambda: detect_file(marked_path, ring)))
            plain_runs.append(_timed(lambda: detect_file(plain_path, ring)))
            bare_runs.append(_timed(lambda: _bare_decode(plain_path, DEFAULT_FILE_FRAMES)))
            rgb_runs.append(_timed(lambda: _rgb_decode(plain_path, DEFAULT_FILE_FRAMES)))
        (result.detect_marked_cpu_s, result.detect_marked_s, reading) = min(marked_runs)
        result.detect_marked_frames = reading.frames_used
        (result.detect_unmarked_cpu_s, result.detect_unmarked_s, reading) = min(plain_runs)
        result.detect_unmarked_frames = reading.frames_used
        result.bare_decode_cpu_s = min(bare_runs)[0]
        result.bare_rgb_cpu_s = min(rgb_runs)[0]
    log(f"detect marked {result.detect_marked_s:.2f}s, unmarked {result.detect_unmarked_s:.2f}s")
    small = fit_crop(real_1080[:2], *RESOLUTIONS[720])
    for method in ("dwtDct", "dwtDctSvd"):
        baseline = create_watermarker(method)
        cpu = time.process_time()
        baseline.embed(small, payload)
        result.baseline_fps[method] = small.shape[0] / (time.process_time() - cpu)
    return result


# --------------------------------------------------------------------------------------------
# Rotation search (optional in rp-ss): what it buys and what it costs


ROTATION_GRID = tuple(float(a) for a in np.arange(-2.0, 2.01, 0.25) if abs(a) > 1e-9)


def run_rotation_search(real: npt.NDArray[np.uint8], frames: int = 16) -> list[str]:
    """Markdown lines: rotated clips read with the synchronisation (default), with listed
    hypotheses only, and with a listed +-2 degree grid instead of the synchronisation."""
    import cv2

    payload = Payload.from_hex(PAYLOAD_HEX, 64)
    lines = [
        "| res | rotation | search | detected | exact id | z | measured angle | frames | "
        "detect CPU s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    modes: tuple[tuple[str, dict[str, Any]], ...] = (
        ("synchronisation (default)", {}),
        ("listed scale 1 only", {"sync": False}),
        ("listed +-2 deg, 0.25 deg steps", {"sync": False, "angles": ROTATION_GRID}),
    )
    for resolution in (256, 720):
        width, height = RESOLUTIONS[resolution]
        source = fit_crop(real[:frames], width, height)
        marked = create_watermarker("rp-ss").embed(source, payload)
        for degrees in (2.0, 4.5):
            matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 1.0)
            rotated = np.stack(
                [
                    cv2.warpAffine(
                        f, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)
                    )
                    for f in marked
                ]
            )
            for label, options in modes:
                wm = create_watermarker("rp-ss", **options)
                cpu = time.process_time()
                reading = wm.detect(rotated)
                seconds = time.process_time() - cpu
                lines.append(
                    f"| {resolution}p | {degrees:g} deg | {label} | {reading.detected} | "
                    f"{reading.payload == PAYLOAD_HEX} | {reading.z:.1f} | {reading.angle:.2f} | "
                    f"{reading.frames_used} | {seconds:.2f} |"
                )
    lines.append("")
    lines.append(
        "The angle's sign follows the fold's convention (a clip turned counter-clockwise on "
        "screen reads as a negative angle)."
    )
    return lines


# --------------------------------------------------------------------------------------------
# Figures and report


def _zoom_png(frames: npt.NDArray[np.uint8], marked: npt.NDArray[np.uint8], path: Path) -> str:
    """Save original / marked / difference x20 of the flattest 96x96 region, zoomed 4x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = metrics.luma(frames[0])
    size = 96
    best, where = math.inf, (0, 0)
    for top in range(0, y.shape[0] - size, 16):
        for left in range(0, y.shape[1] - size, 16):
            spread = float(np.std(y[top : top + size, left : left + size]))
            if spread < best:
                best, where = spread, (top, left)
    top, left = where
    crop = (slice(top, top + size), slice(left, left + size))
    original, stamped = frames[0][crop], marked[0][crop]
    diff = (metrics.luma(stamped) - metrics.luma(original)) * 20 + 128
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.3))
    for ax, image, title in (
        (axes[0], original, "original"),
        (axes[1], stamped, "marked (rp-ss, default strength)"),
        (axes[2], np.clip(diff, 0, 255).astype(np.uint8), "difference x20"),
    ):
        ax.imshow(
            image,
            cmap="gray" if image.ndim == 2 else None,
            vmin=0,
            vmax=255,
            interpolation="nearest",
        )
        ax.set_title(title)
        ax.axis("off")
    fig.suptitle(f"flattest 96x96 region of frame 0 (std {best:.1f} levels), shown 4x")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"{best:.1f}"


def _robustness_png(rows: Sequence[AttackRow], resolutions: Sequence[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attacks = list(dict.fromkeys(r.attack for r in rows))
    methods = ["rp-ss", "dwtDct", "dwtDctSvd"]
    columns = [
        (m, res)
        for res in resolutions
        for m in methods
        if any(r.method == m and r.resolution == res for r in rows)
    ]
    grid = np.full((len(attacks), len(columns)), np.nan)
    for j, (method, res) in enumerate(columns):
        for i, attack in enumerate(attacks):
            hits = [
                r for r in rows if r.method == method and r.resolution == res and r.attack == attack
            ]
            if hits:
                grid[i, j] = float(np.mean([r.bit_acc for r in hits]))
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(columns), 0.32 * len(attacks) + 1.6))
    image = ax.imshow(grid, vmin=0.5, vmax=1.0, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(columns)), [f"{m}\n{r}p" for m, r in columns], fontsize=8)
    ax.set_yticks(range(len(attacks)), attacks, fontsize=8)
    for i in range(len(attacks)):
        for j in range(len(columns)):
            if not math.isnan(grid[i, j]):
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if grid[i, j] < 0.8 else "black",
                )
    fig.colorbar(image, ax=ax, label="bit accuracy (unreadable rp-ss id = 0.5)")
    ax.set_title("payload bit accuracy after each attack (mean over clips)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _null_png(fpr: FprResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if fpr.fixed_z:
        axes[0].hist(fpr.fixed_z, bins=40, density=True, alpha=0.7, label="unmarked windows")
        grid = np.linspace(-5, 5, 200)
        axes[0].plot(grid, norm.pdf(grid), "k-", label="N(0, 1)")
        axes[0].set_title("z of one fixed hypothesis (analytic null: N(0, 1))")
        axes[0].legend()
    if fpr.max_z:
        values = np.sort(np.array(fpr.max_z))
        survival = 1.0 - np.arange(values.size) / values.size
        axes[1].semilogy(values, survival, ".", label="empirical P(max z >= t)")
        grid = np.linspace(values.min(), max(8.0, values.max()), 200)
        bound = np.minimum(1.0, fpr.hypotheses * norm.sf(grid))
        axes[1].semilogy(grid, bound, "k-", label="Bonferroni bound M * Q(t)")
        threshold = float(norm.isf(1e-6 / max(fpr.hypotheses, 1)))
        axes[1].axvline(
            threshold, color="r", ls="--", label=f"detection threshold z = {threshold:.2f}"
        )
        axes[1].set_xlabel("largest z over all hypotheses")
        axes[1].set_title("largest z on unmarked windows")
        axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _fmt_p(value: float) -> str:
    return "1" if value >= 1.0 else f"{value:.0e}"


def write_report(
    out: Path,
    settings: BenchSettings,
    rows: list[AttackRow],
    quality: list[QualityRow],
    fpr: FprResult,
    speed: SpeedResult,
    flat_std: str,
    elapsed: float,
    rotation: list[str] | None = None,
    summary: list[str] | None = None,
    extra: list[str] | None = None,
) -> None:
    """Render the Markdown report (``summary`` after the method, ``extra`` after robustness)."""
    stem = out.stem
    lines: list[str] = []
    add = lines.append
    mode = "quick (CI-sized)" if settings.quick else "full"
    add("# Watermark benchmark: rp-ss vs invisible-watermark\n")
    add(
        f"Generated by `reelproof eval watermark{' --quick' if settings.quick else ''}` ({mode} run, "
        f"{elapsed / 60:.1f} min on {platform.machine()}, one core, numpy "
        f"{np.__version__}). Payload: 64-bit id `{PAYLOAD_HEX}`; rp-ss with the public demo key "
        f"and default settings ({RpSsConfig().strength=}).\n"
    )
    add(
        "Clips: `bikes` = real street footage (`data/video/bikes.mp4`, 640x272) scaled and "
        "centre-cropped to each resolution; `synthetic` = a generated moving scene with a flat "
        f"wall, a smooth sky and textured ground. rp-ss uses {settings.frames} frames "
        f"({settings.frames / 25:.0f} s at 25 fps); the baselines {settings.baseline_frames} "
        "frames (they run frame by frame in Python and take seconds per frame).\n"
    )
    config = RpSsConfig()
    add("## Method in one paragraph\n")
    add(method_paragraph(config))
    if summary:
        lines.extend(summary)
    add("## Quality\n")
    add("| method | clip | res | luma PSNR (dB) | SSIM | embed fps (CPU time) |")
    add("|---|---|---|---|---|---|")
    for q in quality:
        add(
            f"| {q.method} | {q.clip} | {q.resolution}p | {q.psnr:.2f} | {q.ssim:.4f} | {q.embed_fps:.1f} |"
        )
    add("")
    add(f"![zoomed flat region]({stem}_flat_zoom.png)\n")
    add(
        f"The flattest 96x96 region of the first {settings.resolutions[-1]}p real frame "
        f"(luma std {flat_std} levels), "
        "original beside marked, with the difference amplified 20x.\n"
    )
    add("## Robustness\n")
    add(
        "rp-ss cell: `ID` = detected (p < 1e-6, analytic) with the exact 64-bit id; `det` = "
        "detected, id unreadable (reported as None, never wrong); `-` = not detected; `n/e` = not "
        "evaluable. The number is the p-value. Baseline cell: bit accuracy; `ID` when all 64 bits "
        "are right, `det` when at least "
        f"{metrics.matching_bits_threshold()} bits match the known id (fair-coin p < 1e-6).\n"
    )
    clips = list(dict.fromkeys(r.clip for r in rows))
    for resolution in settings.resolutions:
        columns = [
            (m, c)
            for m in ("rp-ss", "dwtDct", "dwtDctSvd")
            for c in clips
            if any(r.method == m and r.clip == c and r.resolution == resolution for r in rows)
        ]
        if not columns:
            continue
        add(f"### {resolution}p\n")
        add("| attack | " + " | ".join(f"{m} {c}" for m, c in columns) + " |")
        add("|---|" + "---|" * len(columns))
        attacks = list(dict.fromkeys(r.attack for r in rows if r.resolution == resolution))
        for attack in attacks:
            cells = []
            for method, clip in columns:
                hit = [
                    r
                    for r in rows
                    if (r.method, r.clip, r.resolution, r.attack)
                    == (method, clip, resolution, attack)
                ]
                if not hit:
                    cells.append("")
                    continue
                r = hit[0]
                if method == "rp-ss":
                    tag = (
                        "n/e"
                        if not r.evaluable
                        else ("ID" if r.exact else ("det" if r.detected else "-"))
                    )
                    cells.append(f"{tag} {_fmt_p(r.p_value)} ({r.frames_used} fr)")
                else:
                    tag = "ID" if r.exact else ("det" if r.detected else "-")
                    cells.append(f"{tag} {r.bit_acc:.2f}")
            add(f"| {attack} | " + " | ".join(cells) + " |")
        add("")
    add(f"![bit accuracy per attack]({stem}_robustness.png)\n")
    summary = _target_summary(rows, settings)
    add("### Against the targets\n")
    lines.extend(summary)
    add("")
    if extra:
        lines.extend(extra)
    add("## False positives\n")
    add(
        f"{fpr.windows} unmarked windows of {settings.fpr_window} frames (real footage raw, "
        "re-encoded, JPEG'd and resized; a clip marked with a different key; synthetic noise, "
        f"scenes, gradients and flat frames), each scored with {settings.fpr_keys} keys (the demo "
        f"key and random ones): **{fpr.trials} trials, {fpr.detections} detections** at p < 1e-6 "
        f"({fpr.not_evaluable} window-key pairs not evaluable: flat or too small). 95 % upper bound "
        f"on the per-trial false-positive rate: {metrics.clopper_pearson_upper(fpr.detections, fpr.trials):.1e} "
        "(the analytic bound is 1e-6).\n"
    )
    if fpr.max_z:
        from scipy.stats import norm

        threshold = float(norm.isf(1e-6 / max(fpr.hypotheses, 1)))
        fixed = np.array(fpr.fixed_z) if fpr.fixed_z else np.zeros(1)
        expected_max = float(norm.isf(1.0 / max(fpr.hypotheses, 1)))
        add(
            f"- hypotheses per trial (shifts x sub-pixel x scales x flips x looks): {fpr.hypotheses:,}; "
            f"detection threshold z = {threshold:.2f}."
        )
        add(
            f"- largest z over all trials: {max(fpr.max_z):.2f}; median largest z: "
            f"{float(np.median(fpr.max_z)):.2f} (analytic: the max of {fpr.hypotheses:,} N(0,1) "
            f"values is typically below ~{expected_max:.2f})."
        )
        add(
            f"- one fixed hypothesis over {fixed.size} trials: mean {float(np.mean(fixed)):.3f}, "
            f"std {float(np.std(fixed)):.3f} (N(0, 1) expected)."
        )
    add("")
    add("| source | trials | detections |")
    add("|---|---|---|")
    for label, (trials, hits) in fpr.by_source.items():
        add(f"| {label} | {trials} | {hits} |")
    add("")
    if fpr.baseline_matches:
        add(
            "Baselines on unmarked windows (first 2 frames): the decoded bits compared with the "
            "benchmark id, and the fraction of 1-bits (0.5 if unbiased):\n"
        )
        add("| method | windows | >= threshold matches | mean fraction of 1-bits | range |")
        add("|---|---|---|---|---|")
        for method, (count, hits) in fpr.baseline_matches.items():
            ones = fpr.baseline_ones.get(method, [math.nan])
            add(
                f"| {method} | {count} | {hits} | {float(np.mean(ones)):.2f} | "
                f"{float(np.min(ones)):.2f}-{float(np.max(ones)):.2f} |"
            )
        add("")
    add(f"![null calibration]({stem}_null.png)\n")
    if rotation:
        lines.extend(rotation_section(rotation))
    add("## Speed (one core)\n")
    add(
        "Rates from the process CPU time (one thread: numpy element-wise code, x264 with "
        "`threads=1`, BLAS limited to one thread; the decoder keeps FFmpeg's threads, as in "
        "use), which does not count time spent waiting for a shared CPU; wall-clock rates of "
        "this run in brackets. The machine is shared, so detection times are the best of three "
        "runs and are also given as multiples of a bare decode of the same frames measured "
        "alongside.\n"
    )
    ratio = speed.x264_fps_1080 / speed.embed_fps_1080 if speed.embed_fps_1080 else math.nan
    add("| measure | value |")
    add("|---|---|")
    add(
        f"| rp-ss embed, 1080p real frames | {speed.embed_fps_1080:.1f} fps "
        f"({1000 / speed.embed_fps_1080:.1f} ms/frame) [wall {speed.embed_fps_wall:.1f} fps] |"
    )
    add(
        f"| libx264 medium CRF 23 encode, same frames, 1 thread | {speed.x264_fps_1080:.1f} fps "
        f"[wall {speed.x264_fps_wall:.1f} fps] |"
    )
    add(f"| embed cost / x264 medium cost | {100 * ratio:.0f} % |")
    rgb_ms = 1000 * speed.bare_rgb_cpu_s / max(speed.file_frames, 1)
    add(
        f"| embed cost / decoding a 1080p frame to RGB (what embedding needs first) | "
        f"{1000 / speed.embed_fps_1080 / rgb_ms:.2f}x ({rgb_ms:.1f} ms/frame to decode) |"
    )
    bare = speed.bare_decode_cpu_s
    add(
        f"| decode the first {speed.file_frames} frames of the 10-s 1080p file, nothing else "
        f"(same safe reader) | {bare:.2f} s CPU |"
    )
    add(
        f"| decode them and convert to RGB (what `iter_chunks` costs) | "
        f"{speed.bare_rgb_cpu_s:.2f} s CPU ({speed.bare_rgb_cpu_s / bare:.1f}x the bare decode) |"
    )
    add(
        f"| detect a {speed.file_seconds}-s marked 1080p file (decode included) | "
        f"{speed.detect_marked_cpu_s:.2f} s CPU [wall {speed.detect_marked_s:.2f} s], "
        f"{speed.detect_marked_frames} frames used; {speed.detect_marked_cpu_s / bare:.2f}x "
        "the bare decode |"
    )
    add(
        f"| detect a {speed.file_seconds}-s unmarked 1080p file (frame budget) | "
        f"{speed.detect_unmarked_cpu_s:.2f} s CPU [wall {speed.detect_unmarked_s:.2f} s], "
        f"{speed.detect_unmarked_frames} frames folded; {speed.detect_unmarked_cpu_s / bare:.1f}x "
        "the bare decode |"
    )
    for method, fps in speed.baseline_fps.items():
        add(f"| {method} embed, 720p | {fps:.2f} fps |")
    add("")
    lines.extend(weaknesses_section())
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


KNOWN_WEAKNESSES = (
    "Static, strongly textured scenes: the mark is static in screen space, so a static host "
    "adds the same interference every frame and more frames do not help (the `synthetic` clip: "
    "a fixed coarse-noise ground and flat sky/wall). Blind additive spread spectrum pays the "
    "full host interference; an informed embedder (ISS-style host cancellation) would not.",
    "Heavy compression, and shrinking followed by compression: at CRF 35-40, or after the "
    "picture was shrunk to 40-60 % and then re-encoded at 360p, the pilot is often still "
    "detected but the 64-bit id needs a raw bit error rate below about 10-15 % and is then "
    "reported unreadable (None), never wrong; below about 0.4x the mark is mostly gone.",
    "Geometry: scale 0.4-2.5x (of either tile), rotation within +-5 degrees and squeezes "
    "around 0.75, 1 and 1.33 are measured; larger rotations, perspective (a phone filming a "
    "screen at an angle) and non-uniform warps are not. The lattice must repeat at least 2.5 "
    "times across the frame, so a 2.5x zoom of a 360p frame is near the limit.",
    "Small clips: 64 px clips carry a cropped tile and need tens of frames (z grows with the "
    "square root of the frames); the id of a 64x64 clip after H.264 CRF 23 is often unreadable.",
    "Cheap rejection of unmarked clips comes from reading only the luma plane, folding about 8 "
    "frames per second and searching for the lattice at the first look, then at 16, 64, ... "
    "frames. The sequential early stop "
    "(`futility_boundary`) is a stated bound, not a speed-up: with about a million hypotheses "
    "the best z of an unmarked clip sits near 4.5 at every checkpoint, so no rule that keeps "
    "marks revealable by the budget can give up on it much earlier.",
    "Averaging attacks: the same key gives the same pilot in every clip, so averaging many "
    "marked clips estimates the pilot (and lets an attacker subtract or forge it). Keep keys "
    "secret and rotate them; the public demo key offers no protection at all.",
    "Several readings of the id: each read is checked by the 16-bit MAC, and up to 16 are "
    "tried once a mark is detected (whitened and plain residuals, weighted and sign decisions, "
    "other significant geometries; 24 for pictures under 128 px, which add the cross-talk-"
    "cancelling reads), so a wrong id passes with at most about 2.4e-4 (3.7e-4), only after "
    "a significant detection.",
    "Stills carry one frame of evidence: a 0.25-MP photo reads its id as written and mostly "
    "after a JPEG re-save, but a 60 % crop or half size plus JPEG often loses it. Stills over "
    "4096x2160 are analysed shrunk (to half at most) and cropped, so in a picture of 35 MP or "
    "more a mark that was itself shrunk below about 0.8x is outside the searched scales.",
    "Baselines were run on 4 frames per clip (their Python loops take seconds per frame) and "
    "have no key and no calibrated test: their 'detection' compares bits with a known id.",
)


def method_paragraph(config: RpSsConfig) -> str:
    """The "Method in one paragraph" text, from the settings in force."""
    return (
        f"rp-ss adds a keyed periodic tile to R, G and B alike (luma only): {config.tile} px "
        f"for frames under {config.large_tile_from} px a side, {config.large_tile} px from there "
        "(1.5x lower frequencies, which survive a re-poster shrinking and recompressing the "
        "picture). The tile is a sum of cosines at the integer frequencies of radius "
        f"{config.r_lo:g}-{config.r_hi:g} cycles per tile, skipping every frequency on the 8- "
        "and 16-pixel codec block grids, each with a keyed random phase. A keyed split makes 258 "
        "of them payload bins (64-bit id + 16-bit keyed MAC, rate-1/3 K=7 convolutional code, "
        "keyed scrambling; one bin per coded bit, sign = bit) and the rest the pilot. The "
        f"amplitude ({config.base_rms:g} levels RMS where the mask is 1) follows a "
        "per-16x16-block texture mask (flat blocks get "
        f"{config.mask_floor:g}x, busy ones up to {config.mask_cap:g}x) with a per-frame luma "
        f"PSNR floor of {config.min_psnr:g} dB. Detection reads luma (from 256 px a side at "
        "half resolution), takes a 3x3 high-pass residual divided by its local 5x5 spread and "
        "sums it over the frames (the mark is static on screen whatever the re-post did). "
        "*Synchronisation, without the key*: the tile repeats, so the sum's whitened power "
        "spectrum has peaks on the lattice of the frequencies every key uses; a log-polar "
        f"correlation with that template over scales {config.min_scale:g}-"
        f"{config.max_scale:g}x (of either tile), rotations within +-{config.max_angle:g} "
        f"degrees and squeezes starting from {', '.join(f'{a:.2f}' for a in config.aspects)}, "
        "then a least-squares fit of the lattice to the peaks, gives up to "
        f"{config.sync_candidates} geometries; the same search on the sum averaged 2 x 2, for "
        "upscaled re-posts only (lattice scales from 1.6x of the small tile), gives up to "
        f"{config.coarse_candidates} more (a clip whose own content is periodic, like a "
        "building's windows, can out-peak an upscaled mark at the working resolution). The "
        "sum is folded at scale 1 and at each "
        "measured geometry, for each tile size, and the folded tile's phase-only spectrum is "
        "correlated with the key's pilot over every cyclic shift (any translation: letterbox, "
        "picture-in-picture anywhere, crops), 4 half-cell offsets and horizontal flips. With the "
        "key unknown to the clip, each hypothesis' statistic is a sum of cosines of independent "
        "uniform phases: z is N(0, 1) (sub-Gaussian, so the tail is bounded). The "
        "synchronisation never reads the key, so it costs the p-value only the number of "
        "geometries it hands over: the Bonferroni correction covers shifts x offsets x "
        "(listed + measured geometries) x tile sizes x flips x looks (checkpoints at 1, 4, 16, "
        "... frames) x keys. The payload is read at the best hypothesis (sub-cell offset "
        "refined) with maximal-ratio weights per frequency band and soft Viterbi decoding, then "
        "with sign decisions, from the plain residual at scale 1, and at up to three other "
        "significant geometries; it is reported only when the 16-bit MAC matches and the "
        "detection is significant.\n"
    )


def weaknesses_section() -> list[str]:
    """The "Known weaknesses" report section."""
    return ["## Known weaknesses\n", *[f"- {item}" for item in KNOWN_WEAKNESSES], ""]


def rotation_section(rotation: list[str]) -> list[str]:
    """The "Rotation" report section around the lines of ``run_rotation_search``."""
    return [
        "## Rotation\n",
        "The synchronisation measures the rotation (within +-5 degrees, with scale and squeeze) "
        "from the tile's lattice; listed angles (`create_watermarker('rp-ss', angles=...)`) "
        "remain available. Rotated marked clips (black corners, bikes):\n",
        *rotation,
        "",
    ]


def _target_summary(rows: Sequence[AttackRow], settings: BenchSettings) -> list[str]:
    """Per resolution and clip: required attacks with the exact id (targets: real footage)."""
    lines = [
        "The targets are stated for real footage (`bikes`): exact id under every attack except "
        "rotation and flip, and at 256p also except CRF 40. The `synthetic` clip is a harder, "
        "static scene reported beside it.\n"
    ]
    excluded = {"rotate_2", "hflip"}
    for resolution in settings.resolutions:
        extra = {"h264_crf40"} if resolution == 256 else set()
        for clip in dict.fromkeys(r.clip for r in rows):
            rp = [
                r
                for r in rows
                if r.method == "rp-ss" and r.resolution == resolution and r.clip == clip
            ]
            if not rp:
                continue
            required = [r for r in rp if r.attack not in excluded | extra]
            missed = sorted(
                f"{r.attack} ({'detected, id unreadable' if r.detected else 'not detected'})"
                for r in required
                if not r.exact
            )
            others = ", ".join(
                f"{r.attack}: {'ID' if r.exact else 'det' if r.detected else '-'}"
                for r in rp
                if r.attack in excluded | extra
            )
            lines.append(
                f"- {resolution}p {clip}: exact id after {sum(r.exact for r in required)}/"
                f"{len(required)} required attacks, detected after "
                f"{sum(r.detected for r in required)}/{len(required)}."
                + (f" Missed: {', '.join(missed)}." if missed else "")
                + (f" Not required: {others}." if others else "")
            )
    return lines


def _one_thread() -> Any:
    """Limit BLAS/OpenMP pools to one thread when threadpoolctl is available (timings on 1 core)."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - optional
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def run_watermark_benchmark(
    out: Path, quick: bool = False, log: Callable[[str], None] | None = None
) -> Path:
    """Run the suite and write the report (and PNGs beside it); returns the report path."""
    from reelproof.eval import watermark_null, watermark_psnr, watermark_repost, watermark_stills

    say = log or (lambda message: print(message, flush=True))
    settings = BenchSettings.make(quick)
    folder = data_dir()
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = previous_cells(out)
    with _one_thread():
        real = load_real(folder / "bikes.mp4", max(settings.frames, 64))
        clips: dict[str, Callable[[int, int], npt.NDArray[np.uint8]]] = {
            "bikes": lambda w, h: fit_crop(real[: settings.frames], w, h),
        }
        if not quick:
            clips["synthetic"] = lambda w, h: synthetic_clip(settings.frames, w, h)
        rows, quality = run_robustness(settings, clips, say)
        zoom_source = fit_crop(real[:1], *RESOLUTIONS[settings.resolutions[-1]])
        marked = create_watermarker("rp-ss").embed(zoom_source, Payload.from_hex(PAYLOAD_HEX, 64))
        flat_std = _zoom_png(zoom_source, marked, out.with_name(f"{out.stem}_flat_zoom.png"))
        fpr = run_false_positives(settings, folder, say)
        real_1080 = fit_crop(real[: min(real.shape[0], settings.speed_frames)], *RESOLUTIONS[1080])
        speed = run_speed(settings, real_1080, say)
        rotation = run_rotation_search(real, frames=8 if quick else 16)
        small = watermark_repost.run_small_frames(real, quick, say)
        repost_settings = watermark_repost.repost_settings(quick)
        sources = watermark_repost.repost_sources(folder)
        repost_started = time.perf_counter()
        loaded = [(label, load_real(path, repost_settings.frames)) for label, path in sources]
        reposted, repost_psnr = watermark_repost.run_reposting(
            repost_settings, loaded, fit_crop, say
        )
        repost_seconds = time.perf_counter() - repost_started
        materials = watermark_null.null_materials(folder, watermark_repost.aivideo_dir() / "")
        null = watermark_null.run_null_trials(
            materials[:12] if quick else materials,
            lambda path: load_real(path, 24 if quick else (256 if path.parent == folder else 72)),
            300 if quick else 5200,
            say,
        )
        stills = watermark_stills.still_sources(folder)
        large = watermark_stills.fixtures_dir() / "stills" / "sample1.heic"
        watermark_null.run_still_trials(null, stills[:4] if quick else stills, large, say)
        psnr_rows = watermark_psnr.run_psnr(sources, 24 if quick else 48, say)
        marked_stills = watermark_stills.run_marked_stills(stills, say, 4 if quick else None)
        still_costs = [] if quick else watermark_stills.run_large_still_cost(say)
    _robustness_png(rows, settings.resolutions, out.with_name(f"{out.stem}_robustness.png"))
    _null_png(fpr, out.with_name(f"{out.stem}_null.png"))
    summary = targets_section(rows, quality, previous, reposted, repost_psnr, null, speed, settings)
    extra = [
        *watermark_repost.repost_section(reposted, repost_psnr, repost_settings, repost_seconds),
        *watermark_repost.small_frames_section(small),
        *watermark_null.null_section(null),
        *watermark_psnr.psnr_section(psnr_rows),
        *watermark_stills.stills_section(marked_stills, still_costs),
    ]
    write_report(
        out,
        settings,
        rows,
        quality,
        fpr,
        speed,
        flat_std,
        time.perf_counter() - started,
        rotation,
        summary,
        extra,
    )
    return out


_ORDER = {"-": 0, "n/e": 0, "det": 1, "ID": 2}


def previous_cells(report: Path) -> dict[tuple[int, str, str], str]:
    """rp-ss cells of the robustness tables of an earlier report: (res, clip, attack) -> tag."""
    if not report.is_file():
        return {}
    cells: dict[tuple[int, str, str], str] = {}
    resolution = 0
    columns: list[str] = []
    for line in report.read_text(encoding="utf-8").splitlines():
        if line.startswith("### ") and line.rstrip().endswith("p") and line[4:-1].isdigit():
            resolution = int(line[4:-1])
        elif line.startswith("| attack |") and resolution:
            columns = [c.strip() for c in line.strip("|").split("|")][1:]
        elif line.startswith("## ") and not line.startswith("## Robustness"):
            resolution, columns = 0, []
        elif resolution and columns and line.startswith("| ") and not line.startswith("|---"):
            parts = [c.strip() for c in line.strip("|").split("|")]
            for column, text in zip(columns, parts[1:], strict=False):
                if column.startswith("rp-ss ") and text:
                    cells[(resolution, column[6:], parts[0])] = text.split()[0]
    return cells


def targets_section(
    rows: Sequence[AttackRow],
    quality: Sequence[QualityRow],
    previous: dict[tuple[int, str, str], str],
    reposted: Sequence[Any],
    repost_psnr: Sequence[tuple[int, str, float]],
    null: Any,
    speed: SpeedResult,
    settings: BenchSettings,
) -> list[str]:
    """The issue-20 targets, each with its figure and met / missed."""
    from reelproof.eval.watermark_repost import TARGETS, exact_share

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    lines = ["## Against the issue-20 targets\n", "| target | figure | |", "|---|---|---|"]
    for resolution, target in TARGETS.items():
        hits, cells = exact_share(reposted, resolution)
        if cells:
            share = hits / cells
            lines.append(
                f"| exact id in >= {100 * target:.0f} % of re-posting cells at {resolution}p | "
                f"{hits}/{cells} = {100 * share:.1f} % | {verdict(share >= target)} |"
            )
    psnrs = [q.psnr for q in quality if q.method == "rp-ss"] + [p for _, _, p in repost_psnr]
    if psnrs:
        mean = float(np.mean(psnrs))
        lines.append(
            f"| mean luma PSNR of the mark alone >= 42 dB | {mean:.2f} dB over {len(psnrs)} "
            f"clip/size pairs (lowest {min(psnrs):.2f}) | {verdict(mean >= 42.0)} |"
        )
    regressions = []
    compared = 0
    for r in rows:
        if r.method != "rp-ss":
            continue
        before = previous.get((r.resolution, r.clip, r.attack))
        if before is None:
            continue
        compared += 1
        now = "n/e" if not r.evaluable else ("ID" if r.exact else ("det" if r.detected else "-"))
        if _ORDER.get(now, 0) < _ORDER.get(before, 0):
            regressions.append(f"{r.resolution}p {r.clip} {r.attack}: {before} -> {now}")
    if compared:
        text = "none" if not regressions else "; ".join(regressions)
        lines.append(
            f"| no earlier robustness cell regressing | {compared} cells compared with the "
            f"previous report; regressions: {text} | {verdict(not regressions)} |"
        )
    lines.append(
        f"| 0 false detections in >= 5,000 unmarked trials | {null.detections} in "
        f"{null.trials:,} | {verdict(null.detections == 0 and null.trials >= 5000)} |"
    )
    rgb_fps = speed.file_frames / speed.bare_rgb_cpu_s if speed.bare_rgb_cpu_s else math.nan
    lines.append(
        f"| embed >= 100 fps at 1080p on one core | {speed.embed_fps_1080:.0f} fps (CPU time; "
        f"decoding the same size to RGB runs at {rgb_fps:.0f} fps) | "
        f"{verdict(speed.embed_fps_1080 >= 100)} |"
    )
    lines.append(
        f"| unmarked 10-s 1080p rejected in <= 0.5 s CPU | {speed.detect_unmarked_cpu_s:.2f} s "
        f"({speed.detect_unmarked_cpu_s / speed.bare_decode_cpu_s:.1f}x a bare decode of the "
        f"same frames) | {verdict(speed.detect_unmarked_cpu_s <= 0.5)} |"
    )
    lines.append(
        f"| marked 10-s 1080p read in <= 0.3 s CPU | {speed.detect_marked_cpu_s:.2f} s "
        f"({speed.detect_marked_cpu_s / speed.bare_decode_cpu_s:.2f}x a bare decode of the "
        f"first {speed.file_frames} frames) | {verdict(speed.detect_marked_cpu_s <= 0.3)} |"
    )
    lines.append("")
    if settings.quick:
        lines.append("(A `--quick` run: sizes are far below the targets' own.)\n")
    return lines
