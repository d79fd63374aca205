"""Still images in ``reelproof eval watermark``: marked stills read back, the cost of very large
stills, and unmarked stills for the false-positive check.

1. Marked: every real photo of ``make data`` and of the shared C2PA fixtures is marked with
   ``embed_still`` (the code behind ``reelproof watermark embed``: same format where Pillow
   writes it, HEIC as PNG), then re-saved the way pictures travel (JPEG 85 and 70, half size,
   a centre crop) and read with ``detect_still`` (``reelproof watermark detect``).
2. Cost: ``detect_still`` on the 51-MP HEIC fixture and on 100-MP JPEG and PNG pictures (the
   fixture upscaled, marked), each in a fresh process so that its CPU time and peak memory
   are its own; beside it the full-size decode alone, and the old path (full decode, then the
   frames).
3. Null: unmarked stills, as they are and transformed, read by the complete detector; they join
   the false-positive count of ``watermark_null``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.core.payload import Payload
from reelproof.eval import metrics

PAYLOAD_HEX = "c0ffee0123456789"
Picture = npt.NDArray[np.uint8]  # (H, W, 3) uint8 RGB


def fixtures_dir() -> Path:
    """The shared C2PA fixtures: ``$REELPROOF_C2PA_FIXTURES`` or /work/shared/c2pa-fixtures."""
    return Path(os.environ.get("REELPROOF_C2PA_FIXTURES", "/work/shared/c2pa-fixtures"))


def still_sources(data: Path) -> list[tuple[str, Path]]:
    """(label, file) of the real photos available: ``data/photos`` and the fixtures' stills."""
    from reelproof.core.io import sniff_still_file

    found = [("make data photos", p) for p in sorted((data.parent / "photos").glob("*"))]
    found += [("C2PA fixture stills", p) for p in sorted((fixtures_dir() / "stills").glob("*"))]
    return [(label, p) for label, p in found if sniff_still_file(p) is not None]


# --------------------------------------------------------------------------------------------
# Marked stills read back


def _save(picture: Picture, path: Path, fmt: str, quality: int = 85) -> Path:
    from PIL import Image

    Image.fromarray(picture).save(path, format=fmt, quality=quality)
    return path


def _half(picture: Picture) -> Picture:
    import cv2

    size = (picture.shape[1] // 2, picture.shape[0] // 2)
    return np.asarray(cv2.resize(picture, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _centre(picture: Picture, share: float) -> Picture:
    height, width = picture.shape[:2]
    h, w = int(height * share), int(width * share)
    top, left = (height - h) // 2, (width - w) // 2
    return np.ascontiguousarray(picture[top : top + h, left : left + w])


STILL_REPOSTS: dict[str, Callable[[Picture, Path], Path | None]] = {
    "as written": lambda p, t: None,
    "JPEG 85": lambda p, t: _save(p, t / "q85.jpg", "JPEG", 85),
    "JPEG 70": lambda p, t: _save(p, t / "q70.jpg", "JPEG", 70),
    "half size, JPEG 85": lambda p, t: _save(_half(p), t / "half.jpg", "JPEG", 85),
    "centre 60 %, JPEG 85": lambda p, t: _save(_centre(p, 0.6), t / "crop.jpg", "JPEG", 85),
}
"""Re-saves of a marked still (``None``: read the written file itself)."""


@dataclass(frozen=True)
class StillRow:
    """One marked still and what each re-save left of its mark."""

    label: str
    name: str
    source_format: str
    written_format: str
    size: str
    psnr: float  # luma PSNR of the written file against the input
    tags: tuple[str, ...]  # per STILL_REPOSTS entry: ID, det or -


def run_marked_stills(
    sources: Sequence[tuple[str, Path]], log: Callable[[str], None], limit: int | None = None
) -> list[StillRow]:
    """Mark every source with ``embed_still`` and read each re-save with ``detect_still``."""
    from reelproof.core.io import decode_still
    from reelproof.watermark import (
        Keyring,
        WatermarkKey,
        create_watermarker,
        detect_still,
        embed_still,
    )

    payload = Payload.from_hex(PAYLOAD_HEX, 64)
    ring = Keyring([WatermarkKey.demo()])
    rows = []
    for label, path in sources[:limit]:
        with tempfile.TemporaryDirectory(prefix="reelproof-stills-") as tmp:
            folder = Path(tmp)
            marked = embed_still(
                path, folder / f"marked{path.suffix}", payload, create_watermarker("rp-ss")
            )
            written = decode_still(marked.output)[0]
            original = decode_still(path, apply_rotation=marked.source_format == "heif")[0]
            tags = []
            for make in STILL_REPOSTS.values():
                target = make(written, folder) or Path(marked.output)
                reading = detect_still(target, keyring=ring)
                exact = reading.payload_verified and reading.payload == PAYLOAD_HEX
                tags.append("ID" if exact else ("det" if reading.detected else "-"))
        rows.append(
            StillRow(
                label,
                path.name,
                marked.source_format,
                marked.format,
                f"{written.shape[1]}x{written.shape[0]}",
                metrics.psnr(original, written),
                tuple(tags),
            )
        )
        log(f"still {path.name} -> {marked.format}: {' '.join(tags)}")
    return rows


# --------------------------------------------------------------------------------------------
# Cost of very large stills, each measured in its own process

_MEASURE = """
import json, sys, time
from reelproof.core.io import decode_still
from reelproof.watermark import detect_frames, detect_still
path, mode = sys.argv[1], sys.argv[2]
cpu = time.process_time()
if mode == "detect_still":
    reading = detect_still(path)
elif mode == "full decode, then detect_frames":
    reading = detect_frames(decode_still(path))
else:
    decode_still(path)
    reading = None
seconds = time.process_time() - cpu
# VmHWM is this program's own high-water mark: ru_maxrss keeps the (much larger) benchmark
# process's memory from before exec, which the child was forked from.
with open("/proc/self/status") as status:
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024.0
body = {"cpu_s": seconds, "peak_mb": peak}
if reading is not None:
    body.update(detected=reading.detected, payload=reading.payload, z=reading.z)
print(json.dumps(body))
"""

COST_MODES = ("decode_still (full size)", "full decode, then detect_frames", "detect_still")


@dataclass(frozen=True)
class CostRow:
    """CPU seconds and peak memory of one way of reading one large still."""

    still: str
    pixels: int
    mode: str
    cpu_s: float
    peak_mb: float
    outcome: str


def _measure(path: Path, mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), mode],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    body: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return body


LARGE_SIZE = (12240, 8160)  # 99.9 MP, just under the default still limit of 100 MP


def _large_pictures(folder: Path) -> Iterator[tuple[str, Path]]:
    """The 51-MP HEIC fixture (unmarked), then 100-MP JPEG and PNG files of it upscaled and
    marked."""
    import cv2
    from PIL import Image

    from reelproof.core.io import decode_still
    from reelproof.watermark import create_watermarker

    heic = fixtures_dir() / "stills" / "sample1.heic"
    if not heic.is_file():
        return
    yield "51-MP HEIC fixture (8736x5856, unmarked)", heic
    big = np.asarray(cv2.resize(decode_still(heic)[0], LARGE_SIZE, interpolation=cv2.INTER_CUBIC))
    marked = create_watermarker("rp-ss").embed(big[None], Payload.from_hex(PAYLOAD_HEX, 64))[0]
    del big
    image = Image.fromarray(marked)
    del marked
    size = "x".join(str(side) for side in LARGE_SIZE)
    image.save(folder / "large.jpg", quality=90)
    yield f"100-MP JPEG ({size}, the fixture upscaled, marked)", folder / "large.jpg"
    image.save(folder / "large.png", compress_level=1)
    yield "100-MP PNG (same picture, fast compression)", folder / "large.png"


def run_large_still_cost(log: Callable[[str], None]) -> list[CostRow]:
    """Time and peak memory of each way of reading each large still (best of two runs)."""
    from reelproof.core.io import probe_still

    rows = []
    with tempfile.TemporaryDirectory(prefix="reelproof-large-") as tmp:
        for label, path in _large_pictures(Path(tmp)):
            info = probe_still(path)
            for mode in COST_MODES:
                runs = [_measure(path, mode) for _ in range(2)]
                best = min(runs, key=lambda r: float(str(r["cpu_s"])))
                outcome = ""
                if "detected" in best:
                    exact = best.get("payload") == PAYLOAD_HEX
                    outcome = "exact id" if exact else ("detected" if best["detected"] else "none")
                    outcome += f" (z {float(str(best['z'])):.1f})"
                rows.append(
                    CostRow(
                        label,
                        info.width * info.height,
                        mode,
                        float(str(best["cpu_s"])),
                        float(str(best["peak_mb"])),
                        outcome,
                    )
                )
                log(
                    f"large still {label} {mode}: {rows[-1].cpu_s:.2f} s, {rows[-1].peak_mb:.0f} MB"
                )
    return rows


# --------------------------------------------------------------------------------------------
# Unmarked stills for the null check


def still_variants(picture: Picture, index: int) -> Iterator[tuple[str, Picture]]:
    """An unmarked still as it is, mirrored, turned a quarter, re-saved as JPEG 85, halved and
    cropped off-centre."""
    import io

    from PIL import Image

    yield "still as decoded", picture
    yield "still mirrored", np.ascontiguousarray(picture[:, ::-1])
    yield "still turned 90 degrees", np.ascontiguousarray(np.rot90(picture, 1 + 2 * (index % 2)))
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="JPEG", quality=85)
    buffer.seek(0)
    with Image.open(buffer) as saved:
        yield "still re-saved JPEG 85", np.asarray(saved.convert("RGB"), dtype=np.uint8)
    if min(picture.shape[:2]) >= 128:
        yield "still halved", _half(picture)
    height, width = picture.shape[:2]
    h, w = max(64, int(height * 0.7)), max(64, int(width * 0.7))
    top, left = (index * 29) % (height - h + 1), (index * 41) % (width - w + 1)
    yield "still cropped off-centre", np.ascontiguousarray(picture[top : top + h, left : left + w])


def large_variants(path: Path) -> Iterator[tuple[str, Picture, float]]:
    """The large HEIC through every path of the bounded analysis: (variant, frame, shrunk)."""
    from reelproof.core.io import decode_still

    full = decode_still(path)[0]
    yield "large still, full decode", full, 1.0
    yield "large still, half-size decode", decode_still(path, reduce=2)[0], 0.5
    yield "large still mirrored", np.ascontiguousarray(full[:, ::-1]), 1.0
    for share in (0.75, 0.45):  # ~29 MP (shrunk ~0.55x) and ~10 MP (shrunk ~0.93x)
        yield f"large still, centre {share:.0%}", _centre(full, share), 1.0


# --------------------------------------------------------------------------------------------
# Report


def stills_section(rows: Sequence[StillRow], costs: Sequence[CostRow]) -> list[str]:
    """Markdown lines of the still-image section."""
    if not rows and not costs:
        return []
    lines = [
        "## Still images\n",
        "`reelproof watermark embed` marks a still (JPEG, PNG, WebP, HEIC, AVIF; the format is "
        "sniffed from the bytes) and writes it with Pillow in the same format where Pillow can "
        "write it (JPEG, WebP and AVIF at quality 95), else PNG (HEIC); `reelproof watermark "
        "detect` reads one. Each real photo below was marked that way (demo key, default "
        "strength), re-saved as listed with Pillow, and read back from the file. `ID` = exact "
        "64-bit id, `det` = detected, id unreadable, `-` = not detected. PSNR: luma of the "
        "written file against the input.\n",
    ]
    if rows:
        names = list(STILL_REPOSTS)
        lines.append("| photo | in -> out | size | PSNR | " + " | ".join(names) + " |")
        lines.append("|---|---|---|---|" + "---|" * len(names))
        for r in rows:
            lines.append(
                f"| {r.name} | {r.source_format} -> {r.written_format} | {r.size} | "
                f"{r.psnr:.1f} dB | " + " | ".join(r.tags) + " |"
            )
        lines.append("")
        for index, name in enumerate(names):
            hits = sum(r.tags[index] == "ID" for r in rows)
            lines.append(f"- {name}: exact id on {hits}/{len(rows)} photos.")
        lines.append("")
    if costs:
        lines.append(
            "Large stills: detection analyses at most a 4096x2160 picture. A larger one is "
            "shrunk (never below half size, so a mark embedded at the picture's own size stays "
            "within the 0.4-2.5x the synchronisation searches) and centre-cropped; from about "
            "35 MP the still is decoded at half size (JPEG by DCT scaling, HEIF by FFmpeg's "
            "scaler). The choice depends on the size only, so the p-value is unchanged. Each "
            "figure is one fresh process (best of two): CPU seconds and its peak resident "
            "memory, Python and the libraries included (about 100 MB).\n"
        )
        lines.append("| still | way of reading | CPU s | peak MB | result |")
        lines.append("|---|---|---|---|---|")
        for c in costs:
            lines.append(
                f"| {c.still} | {c.mode} | {c.cpu_s:.2f} | {c.peak_mb:.0f} | {c.outcome} |"
            )
        lines.append("")
        for still in dict.fromkeys(c.still for c in costs):
            by_mode = {c.mode: c for c in costs if c.still == still}
            decode, ours = by_mode.get(COST_MODES[0]), by_mode.get(COST_MODES[2])
            if decode and ours:
                lines.append(
                    f"- {still}: `detect_still` takes {ours.cpu_s / decode.cpu_s:.1f}x the CPU "
                    f"and {ours.peak_mb / decode.peak_mb:.2f}x the peak memory of decoding it "
                    "at full size alone."
                )
        lines.append("")
    return lines
