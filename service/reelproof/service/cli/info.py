"""``reelproof info CLIP``: probe a media file without decoding it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from reelproof.core.io import (
    MediaInfo,
    StillInfo,
    decode_still,
    iter_chunks,
    probe,
    probe_still,
    sniff_still_file,
)
from reelproof.service.cli.output import plain, print_json


def info_command(
    clip: Path = typer.Argument(
        ...,
        help="Video (MP4, MOV, M4V, MKV, WebM, AVI) or still image (JPEG, PNG, WebP, HEIC, AVIF).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    decode: bool = typer.Option(
        False, "--decode", help="Also decode every frame, to check the file is intact."
    ),
) -> None:
    """Show container, codec, size, frame rate, frame count, duration, rotation and audio (for a
    still image: format, size and rotation)."""
    still = sniff_still_file(clip) is not None
    media: MediaInfo | StillInfo = probe_still(clip) if still else probe(clip)
    decoded = (
        (len(decode_still(clip)) if still else _count_decoded_frames(clip)) if decode else None
    )
    if as_json:
        body = media.to_dict()
        if decoded is not None:
            body["decoded_frames"] = decoded
        print_json(body)
        return
    _print_table(media)
    if decoded is not None:
        Console().print(f"decoded {decoded} frames: the file is intact")


def _count_decoded_frames(clip: Path) -> int:
    """Decode the whole video in chunks (raises MediaDecodeError on damage)."""
    return sum(len(chunk) for chunk in iter_chunks(clip, chunk_frames=32))


def _print_table(media: MediaInfo | StillInfo) -> None:
    table = Table(title=plain(media.path), show_header=False, title_justify="left")
    if isinstance(media, StillInfo):
        rotation = "unknown" if media.rotation is None else f"{media.rotation} deg"
        for key, value in (
            ("still image", f"{media.format} ({media.mime})"),
            ("size", f"{media.width} x {media.height}"),
            ("rotation", rotation),
            ("file size", f"{media.size_bytes:,} bytes"),
        ):
            table.add_row(key, value)
        Console().print(table)
        return
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
