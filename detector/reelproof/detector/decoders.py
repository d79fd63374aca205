"""Small autoencoders with differently built decoders: the offline stand-in for generators.

Real frames reconstructed through a decoder keep their content and gain only the decoder's
trace, so a classifier trained on (real, reconstruction) pairs cannot win by content. Each
upsampling design is one "generator family" for leave-one-family-out evaluation:

- ``transposed``: stride-2 transposed convolutions (checkerboard-prone, like early GANs);
- ``nearest``: nearest-neighbour upsampling + 3x3 convolution;
- ``bilinear``: bilinear upsampling + 3x3 convolution;
- ``pixelshuffle``: sub-pixel convolution (ESPCN / many super-resolution decoders);
- ``vae_kl``: diffusers ``AutoencoderKL`` architecture (the latent-diffusion decoder), built small.

The models are trained for a few hundred steps on real frames, on one CPU thread. They are
weak generators by design: the aim is differently built decoders, not realistic video.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from reelproof.core import ConfigError

FAMILIES: tuple[str, ...] = ("transposed", "nearest", "bilinear", "pixelshuffle", "vae_kl")


@dataclass(frozen=True)
class DecoderTrainConfig:
    """How one family's autoencoder is built and trained.

    Attributes:
        width: channels of the convolutional layers.
        latent_channels: channels of the bottleneck.
        levels: number of stride-2 stages (downsampling factor is 2**levels).
        steps: optimisation steps on random crops.
        batch: crops per step.
        crop: crop side in pixels.
        lr: Adam learning rate.
    """

    width: int = 32
    latent_channels: int = 8
    levels: int = 2
    steps: int = 300
    batch: int = 12
    crop: int = 64
    lr: float = 2e-3


class _UpBlock(nn.Module):
    """One x2 upsampling stage built the way ``kind`` says."""

    def __init__(self, kind: str, cin: int, cout: int) -> None:
        super().__init__()
        self.body: nn.Module
        if kind == "transposed":
            self.body = nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1)
        elif kind in ("nearest", "bilinear"):
            mode_kw = {"align_corners": False} if kind == "bilinear" else {}
            self.body = nn.Sequential(
                nn.Upsample(scale_factor=2, mode=kind, **mode_kw),
                nn.Conv2d(cin, cout, kernel_size=3, padding=1),
            )
        elif kind == "pixelshuffle":
            self.body = nn.Sequential(
                nn.Conv2d(cin, cout * 4, kernel_size=3, padding=1), nn.PixelShuffle(2)
            )
        else:
            raise ConfigError(f"unknown upsampling kind {kind!r}", hint=f"use one of {FAMILIES}")
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x))  # type: ignore[no-any-return]


class TinyAutoencoder(nn.Module):
    """Conv encoder (stride-2 stages) + decoder whose upsampling is set by ``kind``."""

    def __init__(self, kind: str, cfg: DecoderTrainConfig) -> None:
        super().__init__()
        enc: list[nn.Module] = [nn.Conv2d(3, cfg.width, 3, padding=1), nn.ReLU()]
        for _ in range(cfg.levels):
            enc += [nn.Conv2d(cfg.width, cfg.width, 4, stride=2, padding=1), nn.ReLU()]
        enc += [nn.Conv2d(cfg.width, cfg.latent_channels, 3, padding=1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv2d(cfg.latent_channels, cfg.width, 3, padding=1), nn.ReLU()]
        for _ in range(cfg.levels):
            dec.append(_UpBlock(kind, cfg.width, cfg.width))
        dec += [nn.Conv2d(cfg.width, 3, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))  # type: ignore[no-any-return]


class _KLWrapper(nn.Module):
    """diffusers ``AutoencoderKL`` (small) exposing ``forward(x) -> reconstruction``."""

    def __init__(self, cfg: DecoderTrainConfig) -> None:
        super().__init__()
        try:
            from diffusers import AutoencoderKL
        except ImportError as err:  # pragma: no cover - dev installs have diffusers
            raise ConfigError(
                "the vae_kl decoder family needs diffusers",
                hint="pip install 'reelproof[generator]'",
            ) from err
        blocks = tuple(cfg.width * (1 if i == 0 else 2) for i in range(cfg.levels + 1))
        self.vae: Any = AutoencoderKL(  # type: ignore[no-untyped-call]
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * len(blocks),
            up_block_types=("UpDecoderBlock2D",) * len(blocks),
            block_out_channels=blocks,
            layers_per_block=1,
            latent_channels=4,
            norm_num_groups=min(16, blocks[0]),
            sample_size=cfg.crop,
            mid_block_add_attention=False,  # full-frame attention would cost O(pixels^2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Decode the posterior mean: deterministic reconstructions, like a generator's decode.
        latent = self.vae.encode(2.0 * x - 1.0).latent_dist.mode()
        return (self.vae.decode(latent).sample + 1.0) / 2.0  # type: ignore[no-any-return]


def build_decoder_model(family: str, cfg: DecoderTrainConfig | None = None) -> nn.Module:
    """An untrained autoencoder of ``family`` (see ``FAMILIES``)."""
    cfg = cfg or DecoderTrainConfig()
    if family == "vae_kl":
        return _KLWrapper(cfg)
    if family not in FAMILIES:
        raise ConfigError(f"unknown decoder family {family!r}", hint=f"use one of {FAMILIES}")
    return TinyAutoencoder(family, cfg)


def train_decoder(
    family: str,
    frames: Sequence[npt.NDArray[np.uint8]],
    seed: int = 0,
    cfg: DecoderTrainConfig | None = None,
) -> nn.Module:
    """Train one family's autoencoder on random crops of real frames (L1 reconstruction).

    Args:
        family: decoder family name.
        frames: real frames, each (H, W, 3) uint8 RGB with H, W >= ``cfg.crop``.
        seed: seeds crops and weights, so runs repeat exactly on one thread.
        cfg: architecture and schedule.

    Returns:
        The trained model in eval mode.
    """
    cfg = cfg or DecoderTrainConfig()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_decoder_model(family, cfg)
    optim = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    usable = [f for f in frames if min(f.shape[:2]) >= cfg.crop]
    if not usable:
        raise ConfigError(f"no training frame is at least {cfg.crop} pixels on each side")
    model.train()
    for _ in range(cfg.steps):
        batch = _random_crops(usable, cfg.batch, cfg.crop, rng)
        loss = torch.nn.functional.l1_loss(model(batch), batch)
        optim.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optim.step()
    model.eval()
    return model


def _random_crops(
    frames: Sequence[npt.NDArray[np.uint8]], n: int, size: int, rng: np.random.Generator
) -> torch.Tensor:
    """(n, 3, size, size) float32 crops in [0, 1] from random frames."""
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        frame = frames[int(rng.integers(len(frames)))]
        y = int(rng.integers(frame.shape[0] - size + 1))
        x = int(rng.integers(frame.shape[1] - size + 1))
        out[i] = frame[y : y + size, x : x + size]
    return torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255.0


@torch.no_grad()
def reconstruct(
    model: nn.Module, frames: npt.NDArray[np.uint8], multiple: int = 8
) -> npt.NDArray[np.uint8]:
    """Pass frames through an autoencoder.

    Args:
        model: a trained decoder model.
        frames: (N, H, W, 3) uint8 RGB; H and W must be multiples of ``multiple``
            (crop both real and fake the same way before calling).
        multiple: the model's total stride.

    Returns:
        (N, H, W, 3) uint8 RGB reconstructions.
    """
    if frames.shape[1] % multiple or frames.shape[2] % multiple:
        raise ConfigError(f"frame size must be a multiple of {multiple}, got {frames.shape[1:3]}")
    out = np.empty_like(frames)
    for i in range(frames.shape[0]):
        x = torch.from_numpy(np.array(frames[i : i + 1])).permute(0, 3, 1, 2)
        y = model(x.float() / 255.0).clamp(0.0, 1.0)
        out[i] = (y[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    return out
