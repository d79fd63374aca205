"""Resolve ``--model`` / ``from_pretrained`` arguments to a loaded pipeline, offline.

Accepted: ``"default"`` (the embedded model shipped as package data), a folder written by
``reelproof generator train``, or any local diffusers pipeline folder of a supported class.
Everything is checked (folder exists, marker or ``model_index.json`` present, class supported)
before a weight is read.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from reelproof.core import ConfigError
from reelproof.generator import pipelines

PRESETS = ("default",)
DEFAULT_MODEL_NAME = "reelproof-tinyvid"


@dataclass(frozen=True)
class LoadedModel:
    """A loaded pipeline and how to name it in manifests.

    Attributes:
        pipe: The diffusers pipeline.
        name: Model name for the manifest.
        version: Model version for the manifest.
        weights_digest: ``sha256:`` of the weight files, or ``None`` to hash parameters.
        folder: Where it was loaded from.
    """

    pipe: Any
    name: str
    version: str
    weights_digest: str | None
    folder: Path


def default_model_dir() -> Path:
    """The embedded default model's folder (package data ``reelproof.generator/default_model``)."""
    root = resources.files("reelproof.generator") / "default_model"
    return Path(str(root))


def resolve(local_dir_or_preset: str | os.PathLike[str]) -> Path:
    """Map a preset name or a path to an existing folder.

    Raises:
        ConfigError: Unknown preset, missing folder, or a file instead of a folder.
    """
    text = os.fspath(local_dir_or_preset)
    if text in PRESETS:
        folder = default_model_dir()
        if not (folder / "reelproof_tinyvid.json").is_file():
            raise ConfigError(
                "the embedded default model is missing from this installation",
                hint="reinstall reelproof, or train one with `reelproof generator train`",
            )
        return folder
    folder = Path(text).expanduser()
    if not folder.exists():
        raise ConfigError(
            f"model folder {folder} does not exist",
            hint="give a local diffusers folder, or 'default' for the embedded model "
            "(nothing is downloaded)",
        )
    if not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a model folder", hint="give the folder")
    return folder


def files_digest(folder: Path) -> str:
    """``sha256:`` over every weight file (``*.safetensors``, ``*.bin``) in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".safetensors", ".bin") and path.is_file():
            digest.update(str(path.relative_to(folder)).encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def marker_version(marker: dict[str, Any]) -> str:
    """Version label of a default-model folder: its steps per training stage, e.g.
    ``steps-6000+1500`` for a run continued from a 6,000-step checkpoint."""
    stages = [*marker.get("previous_stages", []), marker]
    return "steps-" + "+".join(str(stage.get("steps_done", "unknown")) for stage in stages)


def load_local(local_dir_or_preset: str | os.PathLike[str], torch_dtype: Any = None) -> LoadedModel:
    """Load a pipeline from a preset or local folder (no network).

    Raises:
        ConfigError: See :func:`resolve`; also an unsupported pipeline class or a broken folder.
    """
    from reelproof.generator import tinyvid

    folder = resolve(local_dir_or_preset)
    if tinyvid.is_tinyvid_folder(folder):
        marker = json.loads((folder / tinyvid.MARKER_FILE).read_text())
        pipe = tinyvid.load_pipeline(folder)
        version = marker_version(marker)
        return LoadedModel(pipe, DEFAULT_MODEL_NAME, version, files_digest(folder), folder)
    class_name = pipelines.pipeline_class_in_folder(folder)
    pipelines.kind_of(class_name)  # unsupported classes fail before any weight is read
    import diffusers

    pipeline_cls = getattr(diffusers, class_name, None)
    if pipeline_cls is None:
        raise ConfigError(f"this diffusers version has no {class_name}")
    kwargs: dict[str, Any] = {"local_files_only": True}
    if torch_dtype is not None:
        kwargs["torch_dtype"] = torch_dtype
    try:
        pipe = pipeline_cls.from_pretrained(folder, **kwargs)
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"cannot load {class_name} from {folder}: {err}",
            hint="check the folder is complete (all component subfolders and weights)",
        ) from err
    return LoadedModel(pipe, folder.name, "local", files_digest(folder), folder)
