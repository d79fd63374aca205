"""Fidelity of rp-ss two ways (issue 20): the mark alone, and what a user of the CLI gets.

1. Mark alone: marked frames against the same decoded frames unmarked (no codec in between).
2. CLI: ``reelproof watermark embed IN OUT`` (run as a separate process, exactly as a user
   would, with its default encode settings) then the decoded OUT against the decoded IN; beside
   it the same re-encode without the mark, so the codec's share of the loss is visible.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from reelproof.core.clip import Clip
from reelproof.core.payload import Payload
from reelproof.eval import metrics
from reelproof.watermark import create_watermarker

PAYLOAD_HEX = "c0ffee0123456789"
CLI_SETTINGS = "libx264 CRF 18, preset medium, tune psnr, yuv420p (the CLI's defaults)"


@dataclass(frozen=True)
class PsnrRow:
    """Luma PSNR (dB) of one source file, three ways."""

    source: str
    size: str
    frames: int
    mark_alone: float
    cli_output: float
    reencode_only: float


def run_psnr(
    sources: Sequence[tuple[str, Path]], frames: int, log: Callable[[str], None]
) -> list[PsnrRow]:
    """Measure every source; files shorter than ``frames`` are used whole."""
    from reelproof.core.io import read_clip, write_clip

    rows = []
    payload = Payload.from_hex(PAYLOAD_HEX, 64)
    for label, path in sources:
        with tempfile.TemporaryDirectory(prefix="reelproof-psnr-") as tmp:
            source = Path(tmp) / "in.mp4"
            original = read_clip(path, max_frames=frames)
            # The input of the CLI: the first frames of the file, at near-lossless quality.
            write_clip(Clip(frames=original.frames, fps=Fraction(25)), source, crf=10)
            decoded_in = read_clip(source).frames
            marked = create_watermarker("rp-ss").embed(np.ascontiguousarray(decoded_in), payload)
            out = Path(tmp) / "out.mp4"
            command = [
                sys.executable,
                "-m",
                "reelproof.service.cli",
                "watermark",
                "embed",
                str(source),
                str(out),
                "--payload",
                PAYLOAD_HEX,
                "--json",
            ]
            subprocess.run(command, check=True, capture_output=True, text=True)
            plain = Path(tmp) / "plain.mp4"
            write_clip(Clip(frames=decoded_in, fps=Fraction(25)), plain)  # same defaults
            row = PsnrRow(
                label,
                f"{decoded_in.shape[2]}x{decoded_in.shape[1]}",
                int(decoded_in.shape[0]),
                metrics.psnr(decoded_in, marked),
                metrics.psnr(decoded_in, read_clip(out).frames),
                metrics.psnr(decoded_in, read_clip(plain).frames),
            )
        rows.append(row)
        log(
            f"psnr {label}: mark {row.mark_alone:.2f} dB, CLI output {row.cli_output:.2f} dB, "
            f"re-encode only {row.reencode_only:.2f} dB"
        )
    return rows


def psnr_section(rows: Sequence[PsnrRow]) -> list[str]:
    """Markdown lines of the two-way PSNR table."""
    if not rows:
        return []
    lines = [
        "## Fidelity two ways\n",
        "Luma PSNR against the decoded input file. *Mark alone*: the marked frames before any "
        "encoding. *CLI output*: the file `reelproof watermark embed IN OUT --payload ...` "
        f"writes ({CLI_SETTINGS}). *Re-encode only*: the same frames written with the same "
        "settings without the mark, for scale. The inputs are the first frames of each source "
        "written at CRF 10.\n",
        "| source | size | frames | mark alone | CLI output | re-encode only |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.source} | {r.size} | {r.frames} | {r.mark_alone:.2f} dB | "
            f"{r.cli_output:.2f} dB | {r.reencode_only:.2f} dB |"
        )
    lines.append("")
    return lines
