"""Finding pipeline classes: in a model folder, by name in diffusers, and every one diffusers
exports that the responsible wrapper can mark (no weights are read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from reelproof.core import ConfigError
from reelproof.generator.pipelines import HOOK_CALL, hook_source_of

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline


def pipeline_class_in_folder(folder: Path) -> str:
    """Read ``_class_name`` from a diffusers folder's ``model_index.json`` (no weights loaded).

    Raises:
        ConfigError: The folder is not a diffusers pipeline folder.
    """
    index = folder / "model_index.json"
    if not index.is_file():
        raise ConfigError(
            f"{folder} is not a diffusers pipeline folder (no model_index.json)",
            hint="pass a folder saved with save_pretrained, e.g. Wan2.1-T2V-1.3B-Diffusers",
        )
    try:
        body: object = json.loads(index.read_text())
    except ValueError as err:
        raise ConfigError(f"{index} is not a valid model_index.json: {err}") from err
    name = body.get("_class_name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise ConfigError(f"{index} names no pipeline class")
    return name


def diffusers_class(class_name: str) -> type[DiffusionPipeline]:
    """The diffusers pipeline class called ``class_name`` (no weights involved).

    Raises:
        ConfigError: This diffusers version has no such pipeline class.
    """
    import diffusers

    try:
        cls = getattr(diffusers, class_name)
    except (AttributeError, ImportError) as err:
        raise ConfigError(
            f"diffusers {diffusers.__version__} has no pipeline class {class_name}",
            hint="check the folder's model_index.json, or upgrade diffusers",
        ) from err
    if not (isinstance(cls, type) and issubclass(cls, diffusers.DiffusionPipeline)):
        raise ConfigError(f"diffusers.{class_name} is not a pipeline class")
    return cls


def discover_video_pipelines() -> dict[str, type]:
    """Every pipeline class the installed diffusers exports that decodes through the hook.

    Reads each exported pipeline's source file first and imports only those that mention the
    hook (importing all of diffusers' pipelines takes far longer); classes whose optional
    dependencies are missing are skipped.
    """
    import diffusers

    found: dict[str, type] = {}
    for name in sorted(dir(diffusers)):
        if "Pipeline" not in name or name.startswith("_"):
            continue
        source = _lazy_source_file(name)
        if source is not None and HOOK_CALL not in source.read_text(encoding="utf-8"):
            continue
        try:
            cls = getattr(diffusers, name)
        except (ImportError, AttributeError, RuntimeError):
            continue
        is_pipeline = isinstance(cls, type) and issubclass(cls, diffusers.DiffusionPipeline)
        if is_pipeline and hook_source_of(cls) is not None:
            found[name] = cls
    return found


def _lazy_source_file(name: str) -> Path | None:
    """The file defining diffusers' export ``name``, found through its lazy-import tables
    without importing the module itself; ``None`` when those tables do not say."""
    import importlib
    import importlib.util

    qualified = "diffusers"
    module: object = importlib.import_module(qualified)
    for _ in range(8):  # diffusers nests its lazy packages three or four deep
        table = getattr(module, "_class_to_module", None)
        if not isinstance(table, dict) or not isinstance(table.get(name), str):
            return None
        qualified = f"{qualified}.{table[name]}"
        spec = importlib.util.find_spec(qualified)
        if spec is None or spec.origin is None:
            return None
        if spec.submodule_search_locations is None:
            return Path(spec.origin)
        module = importlib.import_module(qualified)
    return None
