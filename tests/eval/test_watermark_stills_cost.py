"""The large-still cost table measures the reading process's own memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from reelproof.eval.watermark_stills import _measure


def test_peak_memory_is_the_child_process_own(tmp_path: Path) -> None:
    """A child forked from a big parent must not report the parent's memory: ``ru_maxrss``
    survives ``exec`` on Linux and reported the benchmark process's 13 GB for every row."""
    picture = tmp_path / "small.jpg"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(picture)
    ballast = np.ones(700 * 1024 * 1024 // 8)  # 700 MB held (and touched) by this process
    body = _measure(picture, "decode_still (full size)")
    assert float(ballast[-1]) == 1.0
    assert 10.0 < float(str(body["peak_mb"])) < 500.0, body
