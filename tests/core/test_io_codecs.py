"""AV1, VP9 and HEVC inputs: the allow-list names codecs, not the decoder library serving them.

Each test encodes a short clip with the encoder PyAV ships for that codec (SVT-AV1, libvpx-vp9,
libx265), then probes and decodes it through ``reelproof.core.io`` and compares the frames with
the source. A codec is skipped only when this PyAV build has no encoder for it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reelproof_test_media import VideoFactory, synthetic_frames

from reelproof.core.io import probe, read_clip

# (codec name the allow-list holds, PyAV encoder, file name, encoder options)
CASES = [
    ("av1", "libsvtav1", "clip_av1.mp4", {"crf": "30", "preset": "12"}),
    ("av1", "libsvtav1", "clip_av1.mkv", {"crf": "30", "preset": "12"}),
    ("vp9", "libvpx-vp9", "clip_vp9.webm", {"crf": "30", "b": "0", "deadline": "realtime"}),
    (
        "hevc",
        "libx265",
        "clip_hevc.mp4",
        {"crf": "28", "preset": "ultrafast", "x265-params": "log-level=error"},
    ),
]


def _encoder_or_skip(name: str) -> None:
    import av

    try:
        av.Codec(name, "w")
    except ValueError:  # UnknownCodecError
        pytest.skip(f"this PyAV build has no {name} encoder")


@pytest.mark.parametrize(("codec", "encoder", "name", "options"), CASES, ids=[c[2] for c in CASES])
def test_codec_is_allowed_and_decodes(
    make_video: VideoFactory, codec: str, encoder: str, name: str, options: dict[str, str]
) -> None:
    _encoder_or_skip(encoder)
    source = synthetic_frames(n=10, height=96, width=128)
    path: Path = make_video(name, frames=source, codec=encoder, options=options)
    info = probe(path)
    assert info.codec == codec  # the codec, whichever decoder (libdav1d, ...) reads it
    clip = read_clip(path)
    assert clip.frames.shape == source.shape
    error = clip.frames.astype(np.float64) - source.astype(np.float64)
    psnr = 10 * np.log10(255.0**2 / float(np.mean(error**2)))
    assert psnr > 28.0, f"{codec} decoded frames differ from the source ({psnr:.1f} dB)"
