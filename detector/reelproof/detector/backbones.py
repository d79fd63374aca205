"""Feature extractors ("backbones"): forensic features and timm CNNs, in one registry.

``create_backbone(name, pretrained_path=None)`` builds one; ``list_backbones()`` lists them.
Every extractor maps frames to one feature row per frame::

    extract(frames (N, H, W, 3) uint8 RGB) -> (N, D) float32, NaN rows for unusable frames

Forensic extractors (``forensic``, ``residual``, ``spectrum``, ``upsampling``) are numpy only
and fast; ``traces`` adds a tiny CNN on residual patches (``traces.py``, numpy at scoring).
timm backbones (``resnet18``, ``efficientnet_b0``, ``convnext_atto``) are built from scratch
(seeded random weights) or from a user checkpoint; nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from reelproof.core import ConfigError, Registry
from reelproof.detector.features import GROUP_DIMS, frame_features

FloatArray = npt.NDArray[np.float32]


@runtime_checkable
class FeatureExtractor(Protocol):
    """What the detector needs from a backbone."""

    name: str
    dim: int

    def extract(self, frames: npt.NDArray[np.uint8]) -> FloatArray:
        """(N, H, W, 3) uint8 RGB -> (N, dim) float32; NaN rows for unusable frames."""
        ...


BACKBONES: Registry[FeatureExtractor] = Registry("backbone")


class ForensicExtractor:
    """Concatenated forensic feature groups (see ``features.py``)."""

    def __init__(self, name: str, groups: tuple[str, ...]) -> None:
        self.name = name
        self.groups = groups
        self.dim = sum(GROUP_DIMS[g] for g in groups)

    def extract(self, frames: npt.NDArray[np.uint8]) -> FloatArray:
        return frame_features(frames, self.groups)

    def __repr__(self) -> str:
        return f"ForensicExtractor({self.name!r}, groups={self.groups})"


def _forensic_factory(name: str, groups: tuple[str, ...], doc: str) -> None:
    def factory(pretrained_path: Path | None = None) -> FeatureExtractor:
        if pretrained_path is not None:
            raise ConfigError(
                f"backbone {name!r} is hand-built and has no weights to load",
                hint="drop --pretrained, or pick a timm backbone such as 'resnet18'",
            )
        return ForensicExtractor(name, groups)

    BACKBONES.add(name, factory, doc)


_forensic_factory(
    "forensic",
    ("residual", "spectrum", "upsampling"),
    "All forensic features: noise residuals + azimuthal spectrum + upsampling traces (40-d).",
)
_forensic_factory("residual", ("residual",), "Noise-residual statistics (8-d).")
_forensic_factory("spectrum", ("spectrum",), "Azimuthally averaged log power spectrum (16-d).")
_forensic_factory(
    "upsampling", ("upsampling",), "Periodic upsampling traces: spectral peaks, grid phase (16-d)."
)


def _traces_factory(pretrained_path: Path | None = None) -> FeatureExtractor:
    from reelproof.detector.traces import TracesExtractor

    if pretrained_path is not None:
        raise ConfigError(
            "backbone 'traces' is trained with scripts/train_default_detector.py and saved "
            "inside the detector file; it loads no separate checkpoint",
            hint="drop --pretrained",
        )
    return TracesExtractor()


BACKBONES.add(
    "traces",
    _traces_factory,
    "Forensic features + a 3.6 k-weight CNN on 32x32 residual patches (42-d); untrained "
    "(seeded) until the default-weights script trains it.",
)


class TimmExtractor:
    """A timm CNN as a frozen feature extractor on a native-resolution centre crop.

    The crop is not resized (resizing would blur the traces the detector needs); frames smaller
    than 32 pixels on a side give NaN rows. From-scratch weights are seeded, so two instances
    built without a checkpoint are identical; they are random features until fine-tuned.
    """

    CROP = 224
    MIN_SIDE = 32

    def __init__(self, model_name: str, pretrained_path: Path | None = None) -> None:
        import timm
        import torch

        self.name = model_name
        self.pretrained_path = str(pretrained_path) if pretrained_path else None
        torch.manual_seed(0)
        # pretrained=False: timm must never reach the network; weights come only from the user.
        model: Any = timm.create_model(model_name, pretrained=False, num_classes=0)
        if pretrained_path is not None:
            _load_checkpoint(model, Path(pretrained_path))
        model.eval()
        self.model = model
        self.dim = int(model.num_features)
        cfg: dict[str, Any] = dict(model.pretrained_cfg or {})
        self.mean = np.asarray(cfg.get("mean", (0.485, 0.456, 0.406)), dtype=np.float32)
        self.std = np.asarray(cfg.get("std", (0.229, 0.224, 0.225)), dtype=np.float32)

    def extract(self, frames: npt.NDArray[np.uint8]) -> FloatArray:
        import torch

        n, h, w = frames.shape[:3]
        out = np.full((n, self.dim), np.nan, dtype=np.float32)
        if n == 0 or min(h, w) < self.MIN_SIDE:
            return out
        side = min(self.CROP, h, w)
        y, x = (h - side) // 2, (w - side) // 2
        crop = frames[:, y : y + side, x : x + side].astype(np.float32) / 255.0
        crop = (crop - self.mean) / self.std
        batch = torch.from_numpy(np.ascontiguousarray(crop.transpose(0, 3, 1, 2)))
        with torch.no_grad():
            feats = self.model(batch).float().numpy()
        out[:] = feats
        return out

    def __repr__(self) -> str:
        return f"TimmExtractor({self.name!r}, pretrained_path={self.pretrained_path!r})"


def _load_checkpoint(model: Any, path: Path) -> None:
    """Load a user's state dict (weights only, never pickled code); classifier keys may differ."""
    import torch

    if not path.is_file():
        raise ConfigError(f"{path}: no such checkpoint file", hint="pass a .pth/.pt state dict")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ConfigError(
            f"{path}: not a loadable weights-only state dict ({err})",
            hint="save it with torch.save(model.state_dict(), path)",
        ) from err
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    result = model.load_state_dict(state, strict=False)
    if len(result.missing_keys) > 0.1 * len(model.state_dict()):
        raise ConfigError(
            f"{path}: checkpoint does not fit this backbone "
            f"({len(result.missing_keys)} missing keys)",
            hint="use a checkpoint of the same timm architecture",
        )


def _timm_factory(model_name: str, doc: str) -> None:
    def factory(pretrained_path: Path | None = None) -> FeatureExtractor:
        return TimmExtractor(model_name, pretrained_path)

    BACKBONES.add(model_name, factory, doc)


_timm_factory("resnet18", "timm ResNet-18 (11 M params), from scratch or a user checkpoint.")
_timm_factory("efficientnet_b0", "timm EfficientNet-B0 (5 M params), scratch or checkpoint.")
_timm_factory("convnext_atto", "timm ConvNeXt-Atto (3.7 M params), scratch or checkpoint.")


def create_backbone(name: str, pretrained_path: Path | None = None) -> FeatureExtractor:
    """Build the feature extractor registered as ``name``.

    Args:
        name: one of ``list_backbones()``.
        pretrained_path: a weights-only state dict for timm backbones (never downloaded).

    Raises:
        UnknownNameError: unknown name (the message lists close matches).
        ConfigError: a checkpoint that does not load or fit.
    """
    return BACKBONES.create(name, pretrained_path=pretrained_path)


def list_backbones() -> list[str]:
    """Names of every registered backbone."""
    return BACKBONES.list()
