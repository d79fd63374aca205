"""The "traces" backbone: a tiny CNN on high-pass residual patches, beside the forensic features.

The hand-built features summarise a patch's residual by a few statistics; a small CNN can learn
which local residual patterns a generator's decoder leaves. It sees only the Laplacian residual
of 32x32 luma patches (the content, colour and brightness are removed first), so it reads
generation traces rather than what the picture shows, and it is small enough (3.6 k weights) to
be trained from scratch on the shared clips, per held-out fold, on one core.

Scoring runs the network in numpy (no torch import, a few milliseconds per clip); torch is
used only to train it (``train_trace_net``). Per frame the backbone gives the 40 forensic
features plus the mean and spread of the network's patch logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from reelproof.detector.features import GROUP_DIMS, frame_features
from reelproof.detector.frames import ContentBox, FloatArray, select_patches, to_luma

SIDE = 32  # residual patch side fed to the network
SOURCE_PATCH = 64  # the forensic features' patch: same choice of areas, same NaN frames
PATCHES = 8  # residual patches per frame
CLIP_LEVEL = 4.0  # residuals (in units of 16 luma levels) are truncated here: edges saturate
CHANNELS = (1, 8, 16, 16)
STRIDES = (1, 2, 2)
FORENSIC_GROUPS = ("residual", "spectrum", "upsampling")
TRACE_DIMS = 2  # mean and spread of the patch logits


def residual_patches(frames: npt.NDArray[np.uint8], k: int = PATCHES) -> FloatArray:
    """High-pass residual patches of each frame, flattened.

    The patches are the centres of the forensic features' 64x64 patches (same textured,
    grid-aligned areas), k of them per frame at evenly spaced texture ranks.

    Args:
        frames: (N, H, W, 3) uint8 RGB, cropped to the picture.
        k: patches per frame.

    Returns:
        (N, k * 32 * 32) float32; NaN rows where the frame has no textured patch.
    """
    out = np.full((frames.shape[0], k * SIDE * SIDE), np.nan, dtype=np.float32)
    box = ContentBox(0, frames.shape[1], 0, frames.shape[2])
    for i in range(frames.shape[0]):
        patches = select_patches(to_luma(frames[i]), box, size=SOURCE_PATCH)
        if patches.shape[0] == 0:
            continue
        picks = np.linspace(0, patches.shape[0] - 1, k).round().astype(int)
        out[i] = high_pass(patches[picks]).reshape(-1)
    return out


def high_pass(patches: FloatArray) -> FloatArray:
    """(P, 64, 64) luma -> (P, 32, 32) truncated Laplacian residual of the centre."""
    c = patches[:, 1:-1, 1:-1]
    lap = 4.0 * c - patches[:, :-2, 1:-1] - patches[:, 2:, 1:-1]
    lap = lap - patches[:, 1:-1, :-2] - patches[:, 1:-1, 2:]
    start = (lap.shape[1] - SIDE) // 2
    centre = lap[:, start : start + SIDE, start : start + SIDE] / 16.0
    return np.asarray(np.clip(centre, -CLIP_LEVEL, CLIP_LEVEL), dtype=np.float32)


def net_input(patches: FloatArray) -> FloatArray:
    """Each residual patch divided by its RMS: the network sees the *pattern* of the residual
    (periodic upsampling marks, smoothness of texture), not its strength, which codecs, GIF
    palettes and resizing set as much as the source does (measured: leave-one-family-out mean
    AUC 0.610 with this scaling, 0.572 without)."""
    rms = np.sqrt(np.mean(patches * patches, axis=(-2, -1), keepdims=True))
    return np.asarray(patches / (rms + 1e-3), dtype=np.float32)


@dataclass(frozen=True)
class TraceNet:
    """Weights of the traces CNN: three valid 3x3 convolutions (ReLU), global average pooling,
    one linear unit. Numpy arrays, so the pickled detector needs no torch to score.

    Attributes:
        convs: ((weight (out, in, 3, 3), bias (out,)), ...) per convolution.
        fc_w: (C,) weights of the output unit.
        fc_b: its bias.
    """

    convs: tuple[tuple[FloatArray, FloatArray], ...]
    fc_w: FloatArray
    fc_b: float

    def logits(self, patches: FloatArray) -> FloatArray:
        """(P, 32, 32) residual patches -> (P,) float32 logits (synthetic > 0)."""
        x = net_input(patches)[:, None]
        for (w, b), stride in zip(self.convs, STRIDES, strict=True):
            x = np.maximum(_conv(x, w, b, stride), 0.0)
        pooled = x.mean(axis=(2, 3))
        return (pooled @ self.fc_w + self.fc_b).astype(np.float32)  # type: ignore[no-any-return]


def _conv(x: FloatArray, w: FloatArray, b: FloatArray, stride: int) -> FloatArray:
    """Valid cross-correlation (as torch's conv2d): (B, C, H, W) -> (B, O, H', W')."""
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (B, C, H', W', 3, 3)
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (B, H', W', O)
    return np.ascontiguousarray((out + b).transpose(0, 3, 1, 2), dtype=np.float32)


def random_net(seed: int = 0) -> TraceNet:
    """Seeded He-initialised weights (what training starts from; untrained, random features)."""
    rng = np.random.default_rng(seed)
    convs = []
    for c_in, c_out in pairwise(CHANNELS):
        scale = np.sqrt(2.0 / (c_in * 9))
        w = (rng.standard_normal((c_out, c_in, 3, 3)) * scale).astype(np.float32)
        convs.append((w, np.zeros(c_out, np.float32)))
    fc_w = (rng.standard_normal(CHANNELS[-1]) / np.sqrt(CHANNELS[-1])).astype(np.float32)
    return TraceNet(tuple(convs), fc_w, 0.0)


def trace_features(net: TraceNet, rows: FloatArray, use_torch: bool = False) -> FloatArray:
    """Per frame: mean and standard deviation of the patch logits.

    Args:
        net: the traces CNN.
        rows: (F, k * 32 * 32) flattened residual patches (``residual_patches``); NaN rows
            stay NaN.
        use_torch: run the network with torch (training and benchmarks score tens of
            thousands of patches per fold, where numpy's convolutions take a minute); the
            results agree with numpy's to float rounding.

    Returns:
        (F, 2) float32.
    """
    out = np.full((rows.shape[0], TRACE_DIMS), np.nan, dtype=np.float32)
    ok = np.isfinite(rows).all(axis=1)
    if not ok.any():
        return out
    patches = rows[ok].reshape(-1, SIDE, SIDE)
    run = _torch_logits if use_torch else TraceNet.logits
    # Batches keep the im2col copy of a convolution small (tens of MB at most).
    logits = np.concatenate([run(net, patches[i : i + 2048]) for i in range(0, len(patches), 2048)])
    per_frame = logits.reshape(int(ok.sum()), -1)
    out[ok, 0] = per_frame.mean(axis=1)
    out[ok, 1] = per_frame.std(axis=1)
    return out


def _torch_logits(net: TraceNet, patches: FloatArray) -> FloatArray:
    """``TraceNet.logits`` computed with torch's convolutions (same weights, same layout)."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(net_input(patches)[:, None]))
        for (w, b), stride in zip(net.convs, STRIDES, strict=True):
            x = F.relu(F.conv2d(x, torch.from_numpy(w), torch.from_numpy(b), stride=stride))
        pooled = x.mean(dim=(2, 3)).numpy()
    return (pooled @ net.fc_w + net.fc_b).astype(np.float32)


class PatchExtractor:
    """Residual patches as a "feature row" per frame, so the shared feature cache
    (``protocol.videos_features``) stores them for training the CNN per fold."""

    name = "tracepatches"
    dim = PATCHES * SIDE * SIDE

    def extract(self, frames: npt.NDArray[np.uint8]) -> FloatArray:
        return residual_patches(frames)

    def __repr__(self) -> str:
        return f"PatchExtractor(side={SIDE}, patches={PATCHES}, clip={CLIP_LEVEL})"


class TracesExtractor:
    """Forensic features (40) plus the traces CNN's two patch-logit statistics, per frame."""

    def __init__(self, net: TraceNet | None = None, name: str = "traces") -> None:
        self.name = name
        self.net = net if net is not None else random_net()
        self.dim = sum(GROUP_DIMS[g] for g in FORENSIC_GROUPS) + TRACE_DIMS

    def extract(self, frames: npt.NDArray[np.uint8]) -> FloatArray:
        forensic = frame_features(frames, FORENSIC_GROUPS)
        traces = trace_features(self.net, residual_patches(frames))
        return np.concatenate([forensic, traces], axis=1)

    def __repr__(self) -> str:
        return f"TracesExtractor({self.name!r}, side={SIDE}, patches={PATCHES})"
