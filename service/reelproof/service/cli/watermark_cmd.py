"""``reelproof watermark``: embed and detect the invisible rp-ss watermark."""

from __future__ import annotations

from pathlib import Path

import typer

watermark_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(watermark_app, name=name, help=help_text)


def _key(path: Path | None) -> object:
    from reelproof.watermark import WatermarkKey

    return WatermarkKey.load(path) if path is not None else WatermarkKey.demo()


@watermark_app.command("embed")
def embed_command(
    clip: Path = typer.Argument(..., help="Video to mark."),
    out: Path = typer.Argument(..., help="Marked video to write (.mp4, .mov, .m4v or .mkv)."),
    payload: str = typer.Option(..., "--payload", help="64-bit id as 16 hex digits."),
    key: Path | None = typer.Option(
        None, "--key", help="Watermark key file (default: the PUBLIC demo key, not secret)."
    ),
    strength: float = typer.Option(1.0, "--strength", min=0.1, max=4.0, help="Amplitude factor."),
    crf: int = typer.Option(18, "--crf", min=0, max=51, help="x264 quality of the output."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Mark every frame of CLIP with PAYLOAD and re-encode it (H.264, audio copied)."""
    from rich.progress import Progress

    from reelproof.core.io import VideoWriter, iter_chunks, probe
    from reelproof.core.payload import Payload
    from reelproof.watermark import WatermarkKey, create_watermarker

    bits = Payload.from_hex(payload, 64)
    wm_key = _key(key)
    assert isinstance(wm_key, WatermarkKey)
    watermarker = create_watermarker("rp-ss", key=wm_key, strength=strength)
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
    clip: Path = typer.Argument(..., help="Video to check."),
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
    """Look for the rp-ss watermark; prints detection, p-value and the 64-bit id."""
    from reelproof.watermark import Keyring, WatermarkKey, detect_file

    ring = Keyring([WatermarkKey.load(key)]) if key is not None else Keyring.default()
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
