"""``reelproof watermark``: embed and detect the invisible rp-ss watermark."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the CLI starts fast: the packages are imported in the commands
    from reelproof.core.payload import Payload
    from reelproof.watermark import Watermarker

watermark_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(watermark_app, name=name, help=help_text)


def _key(path: Path | None) -> object:
    from reelproof.watermark import WatermarkKey

    return WatermarkKey.load(path) if path is not None else WatermarkKey.demo()


@watermark_app.command("embed")
def embed_command(
    clip: Path = typer.Argument(..., help="Video or still image to mark."),
    out: Path = typer.Argument(
        ...,
        help="Marked file to write: a video (.mp4, .mov, .m4v or .mkv), or for a still the "
        "input's format (JPEG, PNG, WebP, AVIF; HEIC is written as PNG).",
    ),
    payload: str = typer.Option(..., "--payload", help="64-bit id as 16 hex digits."),
    key: Path | None = typer.Option(
        None, "--key", help="Watermark key file (default: the PUBLIC demo key, not secret)."
    ),
    strength: float = typer.Option(1.0, "--strength", min=0.1, max=4.0, help="Amplitude factor."),
    crf: int = typer.Option(18, "--crf", min=0, max=51, help="x264 quality of a video output."),
    quality: int = typer.Option(
        95, "--quality", min=1, max=100, help="Quality of a JPEG, WebP or AVIF still output."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Mark every frame of CLIP with PAYLOAD and re-encode it (H.264, audio copied), or mark a
    still image (JPEG, PNG, WebP, HEIC, AVIF) and write it with its ICC profile."""
    from reelproof.core.io import sniff_still_file
    from reelproof.core.payload import Payload
    from reelproof.watermark import WatermarkKey, create_watermarker

    bits = Payload.from_hex(payload, 64)
    wm_key = _key(key)
    assert isinstance(wm_key, WatermarkKey)
    watermarker = create_watermarker("rp-ss", key=wm_key, strength=strength)
    if sniff_still_file(clip) is not None:
        _embed_still(clip, out, bits, watermarker, quality, as_json)
        return
    _embed_video(clip, out, bits, watermarker, crf, as_json)


def _embed_still(
    clip: Path, out: Path, bits: Payload, watermarker: Watermarker, quality: int, as_json: bool
) -> None:
    from reelproof.watermark import embed_still

    marked = embed_still(clip, out, bits, watermarker, quality=quality)
    body = {
        "output": marked.output,
        "payload": bits.to_hex(),
        "key_id": watermarker.key.key_id,
        "frames": 1,
        "method": watermarker.name,
        "format": marked.format,
        "source_format": marked.source_format,
        "note": marked.note,
    }
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(body)
        return
    typer.echo(
        f"marked the {marked.width}x{marked.height} {marked.source_format.upper()} still {clip} "
        f"with {bits.to_hex()} -> {marked.output} ({marked.format.upper()})"
    )
    if marked.note:
        typer.echo(f"note: {marked.note}", err=True)
    if watermarker.key.is_demo:
        typer.echo("note: the PUBLIC demo key was used; anyone can detect or forge it.", err=True)


def _embed_video(
    clip: Path, out: Path, bits: Payload, watermarker: Watermarker, crf: int, as_json: bool
) -> None:
    from rich.progress import Progress

    from reelproof.core.io import VideoWriter, iter_chunks, probe

    wm_key = watermarker.key
    info = probe(clip)
    written = 0
    with (
        VideoWriter(
            out,
            info.fps,
            info.width,
            info.height,
            crf=crf,
            audio_from=clip if info.has_audio else None,
        ) as writer,
        Progress(transient=True, disable=as_json) as progress,
    ):
        task = progress.add_task("embedding", total=info.frames or None)
        for chunk in iter_chunks(clip, chunk_frames=16):
            writer.write(watermarker.embed(chunk.frames, bits))
            written += len(chunk)
            progress.advance(task, len(chunk))
    body = {
        "output": str(out),
        "payload": bits.to_hex(),
        "key_id": wm_key.key_id,
        "frames": written,
        "method": watermarker.name,
    }
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(body)
        return
    typer.echo(f"marked {written} frames of {clip} with {bits.to_hex()} -> {out}")
    if wm_key.is_demo:
        typer.echo("note: the PUBLIC demo key was used; anyone can detect or forge it.", err=True)


@watermark_app.command("detect")
def detect_command(
    clip: Path = typer.Argument(..., help="Video or still image to check."),
    key: Path | None = typer.Option(
        None, "--key", help="Only this key file (default: local keys + the public demo key)."
    ),
    max_frames: int | None = typer.Option(
        None,
        "--max-frames",
        min=1,
        help="Frames of the video examined (default 128; about 8 per second of video are folded).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Look for the rp-ss watermark in a video or a still (JPEG, PNG, WebP, HEIC, AVIF); prints
    detection, p-value and the 64-bit id."""
    from reelproof.core.io import sniff_still_file
    from reelproof.watermark import Keyring, WatermarkKey, detect_file, detect_still

    ring = Keyring([WatermarkKey.load(key)]) if key is not None else Keyring.default()
    if sniff_still_file(clip) is not None:
        reading = detect_still(clip, keyring=ring)
    else:
        reading = detect_file(clip, keyring=ring, max_frames=max_frames)
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(reading.to_dict())
        return
    if not reading.evaluable:
        typer.echo(f"not evaluable: {reading.reason}")
        return
    verdict = "DETECTED" if reading.detected else "not detected"
    typer.echo(
        f"{verdict}: p = {reading.p_value:.3g} (z = {reading.z:.2f}, {reading.frames_used} frames)"
    )
    if reading.detected:
        payload = reading.payload if reading.payload_verified else "unreadable"
        geometry = f"scale: {reading.scale:.3g}"
        if abs(reading.angle) >= 0.05:
            geometry += f"  rotation: {reading.angle:.1f} deg"
        if abs(reading.aspect - 1.0) >= 0.01:
            geometry += f"  aspect: {reading.aspect:.2f}"
        if reading.flipped:
            geometry += "  mirrored"
        typer.echo(f"payload: {payload}  key: {reading.key_id}  {geometry}")
