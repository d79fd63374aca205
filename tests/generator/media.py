"""Input media for generator tests: images, an unsigned clip and a signed clip, at one size."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from reelproof.core.io import VideoWriter


@dataclass(frozen=True)
class InputMedia:
    """Files to hand to pipelines as inputs.

    Attributes:
        image: First-frame image (PNG).
        last_image: Last-frame image (PNG).
        signed_clip: A clip with its own C2PA manifest (becomes the parentOf ingredient).
        clip: A clip without credentials (an inputTo ingredient).
    """

    image: Path
    last_image: Path
    signed_clip: Path
    clip: Path

    def for_inputs(self, names: tuple[str, ...]) -> dict[str, Path]:
        """A file for each pipeline media argument: images for image arguments, the signed clip
        for the first clip argument and the unsigned clip for any other."""
        from reelproof.generator.pipelines import MEDIA_PARAMETERS, MediaKind

        files: dict[str, Path] = {}
        clips = 0
        for name in names:
            if MEDIA_PARAMETERS[name] is MediaKind.VIDEO:
                files[name] = self.signed_clip if clips == 0 else self.clip
                clips += 1
            else:
                files[name] = self.last_image if name == "last_image" else self.image
        return files


def make_media(folder: Path, size: int, signer: Any, frames: int = 9) -> InputMedia:
    """Write the input files (random content, seeded) into ``folder``."""
    from reelproof.provenance import ManifestSpec, sign

    folder.mkdir(parents=True, exist_ok=True)

    def picture(name: str, shift: int) -> Path:
        path = folder / name
        Image.fromarray(scene(size, shift)).save(path)
        return path

    def clip(name: str) -> Path:
        path = folder / name
        with VideoWriter(path, fps=Fraction(8), width=size, height=size, codec="h264",
                         crf=18, preset="veryfast") as writer:  # fmt: skip
            writer.write(np.stack([scene(size, 2 * t) for t in range(frames)]))
        return path

    image, last = picture("first.png", 0), picture("last.png", 16)
    unsigned = clip("control.mp4")
    signed = folder / "source.mp4"
    sign(clip("source.raw.mp4"), signed, ManifestSpec(title=signed.name), signer)
    return InputMedia(image=image, last_image=last, signed_clip=signed, clip=unsigned)


def scene(size: int, shift: int) -> np.ndarray:
    """A footage-like frame (size, size, 3) uint8: a soft gradient and a disc ``shift`` px right."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    frame = np.stack([80 + 60 * x, 90 + 50 * y, 120 - 40 * x * y], axis=-1)
    inside = (x * size - size / 3 - shift) ** 2 + (y * size - size / 2) ** 2 < (size / 6) ** 2
    frame[inside] = (200, 60, 50)
    return frame.astype(np.uint8)
