"""Media inputs of a generation: files in, pipeline objects out, and their ingredient roles.

Every input image or clip is an ingredient of the generated clip's manifest: ``inputTo`` for
images and unsigned clips; the first input clip that carries its own C2PA manifest becomes the
``parentOf`` ingredient (its manifest is kept inside ours), so the chain of custody survives
editing pipelines (video-to-video, VACE, control).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reelproof.core import InputError
from reelproof.generator.pipelines import MEDIA_PARAMETERS, MediaKind, PipelineProfile

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_PIXELS = 8192 * 8192
MAX_INPUT_FRAMES = 1024


@dataclass(frozen=True)
class MediaFile:
    """One media input loaded for a pipeline.

    Attributes:
        parameter: The pipeline argument it goes to (``image``, ``video`` ...).
        path: The file.
        value: What the pipeline gets: a PIL image, or a list of PIL images / frames.
        signed: The file carries a C2PA manifest (clips only).
    """

    parameter: str
    path: Path
    value: Image.Image | list[Image.Image]
    signed: bool


@dataclass(frozen=True)
class Ingredients:
    """How the inputs go into the manifest.

    Attributes:
        parent: The signed input clip recorded as ``parentOf`` (its manifest kept), if any.
        inputs: Every other input file, recorded as ``inputTo``.
    """

    parent: Path | None
    inputs: tuple[Path, ...]


def media_files(
    image: str | os.PathLike[str] | None,
    video: str | os.PathLike[str] | None,
    last_image: str | os.PathLike[str] | None,
    inputs: Mapping[str, str | os.PathLike[str]] | None,
    profile: PipelineProfile,
) -> dict[str, Path]:
    """Name each given file by the pipeline argument it goes to.

    ``video`` goes to the pipeline's ``video`` argument, or to its ``control_video`` /
    ``conditioning_frames`` when that is its only clip input; ``inputs`` names arguments
    directly (``{"mask": "mask.mp4"}``).

    Raises:
        InputError: An argument given twice, or a file that does not exist.
    """
    given: list[tuple[str, object]] = [("image", image), ("last_image", last_image)]
    if video is not None:
        clip_params = ("video", "control_video", "conditioning_frames")
        target = next((p for p in clip_params if profile.media_input(p) is not None), "video")
        given.append((target, video))
    given += list((inputs or {}).items())
    files: dict[str, Path] = {}
    for name, path in given:
        if path is None:
            continue
        if not isinstance(path, str | os.PathLike):
            raise InputError(
                f"the {name} input must be a file path, not {type(path).__name__}",
                hint="save it to a file: every input is recorded in the manifest by file",
            )
        if name in files:
            raise InputError(f"the {name} input is given twice", hint="give each input once")
        files[name] = Path(path)
    for name, path in files.items():
        if name not in MEDIA_PARAMETERS:
            known = ", ".join(MEDIA_PARAMETERS)
            raise InputError(f"{name} is not a media input name", hint=f"use one of: {known}")
        if not path.is_file():
            raise InputError(f"{name} input {path} does not exist", hint="check the path")
    return files


def load_media(files: Mapping[str, Path]) -> list[MediaFile]:
    """Decode every input file (images with PIL, clips with ReelProof's safe reader).

    Raises:
        InputError: A file that is not a readable image or clip, or over the size limits.
    """
    loaded: list[MediaFile] = []
    for name, path in files.items():
        kind = MEDIA_PARAMETERS[name]
        if kind is MediaKind.VIDEO:
            frames = load_clip_frames(path)
            loaded.append(MediaFile(name, path, frames, signed=carries_manifest(path)))
        else:
            image = load_image(path)
            value: Image.Image | list[Image.Image] = [image] if kind is MediaKind.IMAGES else image
            loaded.append(MediaFile(name, path, value, signed=False))
    return loaded


def ingredients_of(loaded: list[MediaFile]) -> Ingredients:
    """The parent (first signed clip, in argument order) and the other inputs."""
    order = list(MEDIA_PARAMETERS)
    ranked = sorted(loaded, key=lambda m: order.index(m.parameter))
    parent = next((m.path for m in ranked if m.signed), None)
    others = tuple(m.path for m in ranked if m.path != parent)
    return Ingredients(parent=parent, inputs=others)


def load_image(path: Path) -> Image.Image:
    """Open an input image as RGB (pipelines resize it themselves).

    Raises:
        InputError: Not an image PIL can read, or larger than :data:`MAX_IMAGE_PIXELS`.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise InputError(
                    f"input image {path} is {img.width}x{img.height}, over the size limit",
                    hint="downscale it first",
                )
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise InputError(
            f"cannot read input image {path}: {err}", hint="give a PNG or JPEG"
        ) from err


def load_clip_frames(path: Path) -> list[Image.Image]:
    """Decode an input clip's frames as RGB PIL images (diffusers' video input format)."""
    from PIL import Image

    from reelproof.core.io import read_clip

    clip = read_clip(path, max_frames=MAX_INPUT_FRAMES)
    return [Image.fromarray(frame) for frame in clip.frames]


def carries_manifest(path: Path) -> bool:
    """Whether a clip carries C2PA credentials (valid or not): it then becomes the parent."""
    from reelproof.provenance import verify

    return verify(path).state != "absent"
