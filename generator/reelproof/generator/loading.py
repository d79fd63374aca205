"""Resolve ``--model`` / ``from_pretrained`` arguments to a loaded pipeline, offline.

Accepted: ``"default"`` (the embedded model shipped as package data), a folder written by
``reelproof generator train``, or any local diffusers video pipeline folder. Everything is checked
(folder exists, marker or ``model_index.json`` present, class markable) before a weight is read.
Memory options for large checkpoints: :class:`MemoryOptions`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelproof.core import ConfigError
from reelproof.generator import discovery, pipelines

if TYPE_CHECKING:
    import torch

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


def parameters_digest(pipe: Any) -> str:
    """``sha256:`` over the pipeline's parameters (names, shapes and bytes), in a fixed order."""
    import torch

    digest = hashlib.sha256()
    components: dict[str, object] = pipe.components
    for name in sorted(components):
        module = components[name]
        if not isinstance(module, torch.nn.Module):
            continue
        for key, tensor in sorted(module.state_dict().items()):
            digest.update(f"{name}.{key}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return f"sha256:{digest.hexdigest()}"


def marker_version(marker: Mapping[str, object]) -> str:
    """Version label of a default-model folder: its steps per training stage, e.g.
    ``steps-6000+1500`` for a run continued from a 6,000-step checkpoint."""
    previous = marker.get("previous_stages")
    stages = [*(previous if isinstance(previous, list) else []), marker]
    steps = [
        s.get("steps_done", "unknown") if isinstance(s, Mapping) else "unknown" for s in stages
    ]
    return "steps-" + "+".join(str(step) for step in steps)


def load_local(
    local_dir_or_preset: str | os.PathLike[str], torch_dtype: torch.dtype | None = None
) -> LoadedModel:
    """Load a pipeline from a preset or local folder (no network).

    Any diffusers video pipeline folder loads; the class is read from ``model_index.json`` and
    checked (it must decode through the watermark hook) before a weight is read.

    Raises:
        ConfigError: See :func:`resolve`; also a pipeline that cannot be marked or a broken
            folder.
    """
    from reelproof.generator import tinyvid

    folder = resolve(local_dir_or_preset)
    if tinyvid.is_tinyvid_folder(folder):
        marker = json.loads((folder / tinyvid.MARKER_FILE).read_text())
        pipe = tinyvid.load_pipeline(folder)
        version = marker_version(marker)
        return LoadedModel(pipe, DEFAULT_MODEL_NAME, version, files_digest(folder), folder)
    class_name = discovery.pipeline_class_in_folder(folder)
    pipeline_cls = discovery.diffusers_class(class_name)
    pipelines.profile(pipeline_cls)  # an unmarkable class fails before any weight is read
    try:
        pipe = pipeline_cls.from_pretrained(  # type: ignore[no-untyped-call]
            folder, local_files_only=True, dtype=torch_dtype
        )
    except (OSError, ValueError, TypeError) as err:
        raise ConfigError(
            f"cannot load {class_name} from {folder}: {err}",
            hint="check the folder is complete (all component subfolders and weights)",
        ) from err
    return LoadedModel(pipe, folder.name, "local", files_digest(folder), folder)


@dataclass(frozen=True)
class MemoryOptions:
    """How to fit a large checkpoint in memory.

    Attributes:
        vae_tiling: Decode (and encode) in tiles and slices: bounds the VAE's memory on large
            frames; the watermark hook still sees the whole decoded clip.
        cpu_offload: Keep each model in main memory and move it to the accelerator only while
            it runs (``enable_model_cpu_offload``); needs an accelerator.
        device: Move the whole pipeline there (``"cuda"``, ``"cuda:1"``, ``"cpu"``); ignored
            with ``cpu_offload``, which places models itself.
    """

    vae_tiling: bool = False
    cpu_offload: bool = False
    device: str | None = None


def accelerator_available() -> bool:
    """Whether torch sees an accelerator (CUDA, ROCm, XPU or Apple MPS)."""
    import torch

    xpu = getattr(torch, "xpu", None)
    return bool(
        torch.cuda.is_available()
        or (xpu is not None and xpu.is_available())
        or torch.backends.mps.is_available()
    )


def apply_memory_options(pipe: Any, options: MemoryOptions) -> None:
    """Turn on VAE tiling/slicing, CPU offload or a device move on a loaded pipeline.

    Raises:
        ConfigError: CPU offload asked for without an accelerator.
    """
    vae = getattr(pipe, "vae", None)
    if options.vae_tiling and vae is not None:
        for method in ("enable_tiling", "enable_slicing"):
            enable = getattr(vae, method, None)
            try:
                if callable(enable):
                    enable()
            except NotImplementedError:
                continue  # e.g. SVD's temporal decoder: it decodes in frame chunks instead
    if options.cpu_offload:
        if not accelerator_available():
            raise ConfigError(
                "CPU offload needs an accelerator; without one every model already runs from "
                "main memory",
                hint="drop --cpu-offload, or run on a machine with a GPU",
            )
        pipe.enable_model_cpu_offload()
    elif options.device is not None:
        pipe.to(options.device)
