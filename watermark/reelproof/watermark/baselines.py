"""Baselines from ``invisible-watermark`` (``imwatermark``): ``dwtDct`` and ``dwtDctSvd``.

They are image watermarks without a key or a calibrated detector, run frame by frame; detection
takes the per-bit majority over frames. Their readings carry the decoded bits but never claim
``detected``: a caller compares the bits with a known id (the benchmark does). ``imwatermark`` and
OpenCV are imported lazily (``pip install 'reelproof[eval]'``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reelproof.core.clip import FrameArray
from reelproof.core.errors import ConfigError, InputError
from reelproof.core.payload import Payload
from reelproof.watermark.base import WATERMARKERS, FrameSource, Watermarker, as_chunks, check_frames
from reelproof.watermark.keys import WatermarkKey
from reelproof.watermark.reading import WatermarkReading

PAYLOAD_BITS = 64
_MIN_PIXELS = 256 * 256  # imwatermark refuses smaller images


def _imwatermark() -> Any:
    try:
        import imwatermark
    except ImportError as err:
        raise ConfigError(
            "the dwtDct/dwtDctSvd baselines need the invisible-watermark package",
            hint="pip install 'reelproof[eval]'",
        ) from err
    return imwatermark


class ImWatermarker(Watermarker):
    """Frame-by-frame ``invisible-watermark`` baseline (no key: ``key`` is ignored)."""

    def __init__(self, method: str, key: WatermarkKey | None = None) -> None:
        super().__init__(key)
        self.method = method
        self.name = method

    @property
    def min_side(self) -> int:
        """imwatermark refuses images under 256x256 pixels."""
        return 256

    def embed(self, frames: FrameArray, payload: Payload) -> FrameArray:
        """Mark (T, H, W, 3) uint8 RGB frames; returns (T, H, W, 3) uint8."""
        check_frames(frames)
        if len(payload) != PAYLOAD_BITS:
            raise InputError(f"{self.method} is benchmarked with 64-bit payloads")
        if frames.shape[1] * frames.shape[2] < _MIN_PIXELS:
            raise InputError(f"{self.method} needs frames of at least 256x256 pixels")
        module = _imwatermark()
        encoder = module.WatermarkEncoder()
        encoder.set_watermark("bits", list(payload.bits))
        out = np.empty_like(frames)
        for index, frame in enumerate(frames):
            bgr = np.ascontiguousarray(frame[..., ::-1])
            marked = encoder.encode(bgr, self.method)
            out[index] = np.clip(marked, 0, 255).astype(np.uint8)[..., ::-1]
        return out

    def detect(self, frames: FrameSource, max_frames: int | None = None) -> WatermarkReading:
        """Majority-vote the 64 bits over frames; ``payload`` holds them, ``detected`` stays False."""
        module = _imwatermark()
        decoder = module.WatermarkDecoder("bits", PAYLOAD_BITS)
        votes = np.zeros(PAYLOAD_BITS)
        used = 0
        for chunk in as_chunks(frames):
            for frame in chunk:
                if max_frames is not None and used >= max_frames:
                    break
                if frame.shape[0] * frame.shape[1] < _MIN_PIXELS:
                    return WatermarkReading.not_evaluable(
                        "frames smaller than 256x256 pixels", self.method, None, used
                    )
                bits = decoder.decode(np.ascontiguousarray(frame[..., ::-1]), self.method)
                votes += np.asarray(bits, dtype=np.float64)
                used += 1
        if used == 0:
            return WatermarkReading.not_evaluable("no frames", self.method)
        majority = (votes / used >= 0.5).astype(np.uint8)
        return WatermarkReading(
            detected=False,
            p_value=1.0,
            z=0.0,
            payload=Payload.from_array(majority).to_hex(),
            payload_verified=False,
            frames_used=used,
            scale=1.0,
            shift=(0, 0),
            key_id=None,
            method=self.method,
            reason="no calibrated detection test: compare the bits with a known id",
            bit_reliability=float(np.mean(np.abs(votes / used - 0.5) * 2.0)),
        )


@WATERMARKERS.register("dwtDct")
def _make_dwtdct(key: WatermarkKey | None = None) -> Watermarker:
    """invisible-watermark dwtDct baseline (frame by frame, no key, no calibrated test)."""
    return ImWatermarker("dwtDct", key)


@WATERMARKERS.register("dwtDctSvd")
def _make_dwtdctsvd(key: WatermarkKey | None = None) -> Watermarker:
    """invisible-watermark dwtDctSvd baseline (frame by frame, no key, no calibrated test)."""
    return ImWatermarker("dwtDctSvd", key)
