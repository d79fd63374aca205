"""Inputs and call arguments for driving tiny pipelines: footage-like images and clips (one of
them signed), and the arguments of a wrapped or a bare call at one frame size."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reelproof.core.io import VideoWriter
from reelproof.generator.pipelines import MEDIA_PARAMETERS, MediaKind, PipelineProfile

if TYPE_CHECKING:
    from reelproof.eval.tiny_pipelines import TinyCase
    from reelproof.provenance import ProvenanceSigner

PROMPT = "a red ball moving left"
STEPS = 2


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
        files: dict[str, Path] = {}
        clips = 0
        for name in names:
            if MEDIA_PARAMETERS[name] is MediaKind.VIDEO:
                files[name] = self.signed_clip if clips == 0 else self.clip
                clips += 1
            else:
                files[name] = self.last_image if name == "last_image" else self.image
        return files


def make_media(folder: Path, size: int, signer: ProvenanceSigner, frames: int = 9) -> InputMedia:
    """Write the input files (a soft gradient with a moving disc) into ``folder``."""
    from PIL import Image

    from reelproof.provenance import ManifestSpec, sign

    folder.mkdir(parents=True, exist_ok=True)

    def picture(name: str, shift: int) -> Path:
        path = folder / name
        Image.fromarray(scene(size, shift)).save(path)
        return path

    def clip(name: str) -> Path:
        path = folder / name
        with VideoWriter(
            path, fps=Fraction(8), width=size, height=size, codec="h264", crf=18, preset="veryfast"
        ) as writer:
            writer.write(np.stack([scene(size, 2 * t) for t in range(frames)]))
        return path

    image, last = picture("first.png", 0), picture("last.png", 16)
    unsigned = clip("control.mp4")
    signed = folder / "source.mp4"
    sign(clip("source.raw.mp4"), signed, ManifestSpec(title=signed.name), signer)
    return InputMedia(image=image, last_image=last, signed_clip=signed, clip=unsigned)


def scene(size: int, shift: int) -> npt.NDArray[np.uint8]:
    """A footage-like frame (size, size, 3) uint8: a soft gradient and a disc ``shift`` px right."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    frame = np.stack([80 + 60 * x, 90 + 50 * y, 120 - 40 * x * y], axis=-1)
    inside = (x * size - size / 3 - shift) ** 2 + (y * size - size / 2) ** 2 < (size / 6) ** 2
    frame[inside] = (200, 60, 50)
    return frame.astype(np.uint8)


def generate_arguments(
    profile: PipelineProfile, case: TinyCase, media: InputMedia, size: int, seed: int = 1
) -> dict[str, Any]:
    """Keyword arguments of ``ResponsibleGenerator.generate`` for a tiny case (prompt and output
    aside): the fewest steps and pixels that still run every stage. Values are of several
    types (files, ints, pipeline extras), hence ``Any``."""
    args: dict[str, Any] = {"inputs": media.for_inputs(case.inputs), "seed": seed}
    args.update(case.extra)
    args.update(_geometry(profile, case, size, "num_frames"))
    return args


def pipeline_arguments(
    profile: PipelineProfile, case: TinyCase, media: InputMedia, size: int, output_type: str
) -> dict[str, object]:
    """What a caller of the bare pipeline would pass for the same clip (media as PIL)."""
    from PIL import Image

    from reelproof.core.io import read_clip

    call: dict[str, object] = {**case.extra, "output_type": output_type}
    if profile.takes_prompt:
        call["prompt"] = PROMPT
    for name, path in media.for_inputs(case.inputs).items():
        if MEDIA_PARAMETERS[name] is MediaKind.VIDEO:
            call[name] = [Image.fromarray(f) for f in read_clip(path).frames]
        else:
            call[name] = Image.open(path).convert("RGB")
    call.update(_geometry(profile, case, size, profile.frames_parameter or "num_frames"))
    return call


def _geometry(
    profile: PipelineProfile, case: TinyCase, size: int, frames_name: str
) -> dict[str, int]:
    """Frames, sides and steps, each only where the pipeline takes it."""
    values: dict[str, int] = {}
    if case.frames is not None and profile.frames_parameter is not None:
        values[frames_name] = case.frames
    for name in ("height", "width"):
        if name in profile.parameters:
            values[name] = size
    if "num_inference_steps" in profile.parameters:
        values["num_inference_steps"] = STEPS
    return values
