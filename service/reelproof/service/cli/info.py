"""``reelproof info CLIP``: probe a media file without decoding it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from reelproof.core.io import MediaInfo, probe
from reelproof.service.cli.output import print_json


def info_command(
    clip: Path = typer.Argument(..., help="Video file to probe (MP4, MOV, M4V, MKV, WebM, AVI)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Show container, codec, size, frame rate, frame count, duration, rotation and audio."""
    media = probe(clip)
    if as_json:
        print_json(media.to_dict())
        return
    _print_table(media)


def _print_table(media: MediaInfo) -> None:
    table = Table(title=str(media.path), show_header=False, title_justify="left")
    rate = f"{float(media.fps):.3f} fps" + (" (variable)" if media.is_vfr else "")
    rows = [
        ("container", media.container),
        ("video codec", f"{media.codec} ({media.pixel_format})"),
        ("size", f"{media.width} x {media.height}"),
        ("frame rate", rate),
        ("frames", f"{media.frames}" + ("" if media.frames_exact else " (estimated)")),
        ("duration", f"{media.duration:.3f} s"),
        ("rotation", f"{media.rotation} deg"),
        ("colour", f"{media.color_space or 'unspecified'}, {media.color_range or 'unspecified'}"),
        ("audio", media.audio_summary()),
        ("file size", f"{media.size_bytes:,} bytes"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)
