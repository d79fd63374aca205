"""The watermarking hook inside a diffusers video pipeline.

Every diffusers video pipeline ends with ``vae.decode(...)`` and then
``self.video_processor.postprocess_video(video, output_type)``. :class:`WatermarkingVideoProcessor`
replaces the pipeline instance's ``video_processor``: its ``postprocess_video`` converts the decoded
``(B, C, F, H, W)`` tensor to 8-bit frames, watermarks every frame, converts back and only then
delegates to the stock processor. Whatever output type the caller asked for (np, pt, pil) is made
from marked pixels; the hook needs none of the per-pipeline latent maths and sees the whole clip
after tiled or chunked decoding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reelproof.core import InputError

if TYPE_CHECKING:
    import torch

# Marks one clip: (F, H, W, 3) uint8 RGB in, same shape and dtype out.
MarkFn = Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]


class UnmarkedOutputError(InputError):
    """A wrapped pipeline was asked for output the wrapper cannot watermark and sign."""


class WatermarkingVideoProcessor:
    """Proxy for a pipeline's ``video_processor`` that watermarks before any output conversion.

    It is *armed* by :class:`~reelproof.generator.ResponsibleGenerator` with the mark function of
    one generation; a call while unarmed (someone calling the wrapped pipeline directly) is
    refused, so the wrapped pipeline never hands out unmarked frames.

    Attributes:
        inner: The stock ``VideoProcessor`` everything else is delegated to.
        marked: The marked clips of the last call, (B, F, H, W, 3) uint8, for encoding.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._mark: MarkFn | None = None
        self.marked: npt.NDArray[np.uint8] | None = None

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes the proxy lacks: preprocessing, config, ... stay stock.
        return getattr(self.inner, name)

    def arm(self, mark: MarkFn) -> None:
        """Mark the next decoded video with ``mark``."""
        self._mark = mark
        self.marked = None

    def disarm(self) -> None:
        """Refuse decoding again until the next :meth:`arm`."""
        self._mark = None

    def postprocess_video(self, video: torch.Tensor, output_type: str = "np", **kwargs: Any) -> Any:
        """Watermark the decoded video, then run the stock postprocessing.

        Args:
            video: Decoded video (B, C, F, H, W) float, in [-1, 1] when the processor normalises
                (every stock video pipeline) else in [0, 1].
            output_type: ``"np"``, ``"pt"`` or ``"pil"``; ``"latent"`` is refused.

        Returns:
            What the stock ``postprocess_video`` returns, made from marked pixels.
        """
        if output_type == "latent":
            raise UnmarkedOutputError(
                'output_type="latent" would hand out unmarked material',
                hint='ask for "np", "pt" or "pil"',
            )
        if self._mark is None:
            raise UnmarkedOutputError(
                "this pipeline is wrapped by ResponsibleGenerator and only decodes through it",
                hint="call ResponsibleGenerator.generate(...) instead of the pipeline",
            )
        normalised = bool(getattr(self.inner.config, "do_normalize", True))
        frames = video_to_uint8(video, normalised)  # (B, F, H, W, 3) uint8
        marked = np.stack([self._mark(clip) for clip in frames])
        self.marked = marked
        back = uint8_to_video(marked, normalised, like=video)
        return self.inner.postprocess_video(back, output_type=output_type, **kwargs)


def video_to_uint8(video: torch.Tensor, normalised: bool) -> npt.NDArray[np.uint8]:
    """Decoded (B, C, F, H, W) float video -> (B, F, H, W, 3) uint8 RGB frames.

    Rounds exactly as diffusers' ``numpy_to_pil`` does, so PIL output equals these bytes.
    """
    import torch

    if video.ndim != 5 or video.shape[1] != 3:
        raise InputError(f"expected a decoded (B, 3, F, H, W) video, got {tuple(video.shape)}")
    x = video.detach().to(torch.float32).cpu()
    x01 = (x / 2 + 0.5).clamp(0, 1) if normalised else x.clamp(0, 1)
    out = (x01.permute(0, 2, 3, 4, 1).numpy() * 255).round().astype(np.uint8)
    return out


def uint8_to_video(
    frames: npt.NDArray[np.uint8], normalised: bool, like: torch.Tensor
) -> torch.Tensor:
    """(B, F, H, W, 3) uint8 -> (B, C, F, H, W) float32 video in the decoder's range and device.

    float32 even for half-precision pipelines: bf16 cannot hold k/255 exactly, and the stock
    postprocessing would then round marked pixels to other values.
    """
    import torch

    x01 = torch.from_numpy(frames.astype(np.float32) / 255.0).permute(0, 4, 1, 2, 3)
    x = x01 * 2 - 1 if normalised else x01
    return x.to(device=like.device, dtype=torch.float32)
