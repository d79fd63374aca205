"""Feature extraction that starts while the sampled frames are still being decoded.

Decoding a long-GOP clip leaves part of the second core idle: each reference frame has to wait
for the one before it. Extracting each kept frame's features as soon as the sampler hands it
over fills that gap instead of waiting for the last frame (``ClipDetector.score_file``).

The one thing not known early is the clip's content box (letterbox bars), which
``clip_features`` measures over several frames. It is guessed from the first frame; if the
final box differs, the early rows are dropped and recomputed the usual way, so a score never
depends on whether this shortcut was taken.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from reelproof.detector.backbones import FeatureExtractor
from reelproof.detector.frames import ContentBox, FloatArray, find_content_box, to_luma


def frame_independent(extractor: FeatureExtractor) -> bool:
    """Whether ``extractor`` computes each frame's row from that frame alone (so rows can be
    computed one at a time, in any order, with the same values as a batch)."""
    return bool(getattr(extractor, "frame_independent", False))


class EarlyFeatures:
    """Per-frame features submitted to ``pool`` as the sampler delivers frames.

    Args:
        extractor: a frame-independent backbone (see :func:`frame_independent`).
        pool: worker threads (numpy and OpenCV release the GIL in the heavy parts).
        min_side: smallest usable picture side; a smaller guessed box disables the shortcut.
    """

    def __init__(self, extractor: FeatureExtractor, pool: ThreadPoolExecutor, min_side: int):
        self.extractor = extractor
        self.pool = pool
        self.min_side = min_side
        self.box: ContentBox | None = None
        self.disabled = False
        self.rows: dict[int, Future[FloatArray]] = {}

    def add(self, row: int, frame: npt.NDArray[np.uint8]) -> None:
        """Sampler callback: start on one (H, W, 3) uint8 RGB frame."""
        if self.disabled:
            return
        if self.box is None:
            box = find_content_box(to_luma(frame[None]))
            if min(box.height, box.width) < self.min_side:
                self.disabled = True  # clip_features will explain why; nothing to start
                return
            self.box = box
        self.rows[row] = self.pool.submit(self._extract, frame, self.box)

    def _extract(self, frame: npt.NDArray[np.uint8], box: ContentBox) -> FloatArray:
        crop = np.ascontiguousarray(frame[box.top : box.bottom, box.left : box.right])
        return self.extractor.extract(crop[None])

    def result(self, box: ContentBox, n_frames: int) -> FloatArray | None:
        """(n_frames, dim) rows if they were computed for ``box`` and every frame; else None."""
        if self.disabled or box != self.box or sorted(self.rows) != list(range(n_frames)):
            self.cancel()
            return None
        return np.concatenate([self.rows[row].result() for row in range(n_frames)])

    def cancel(self) -> None:
        """Drop work not yet started (the caller recomputes what it needs)."""
        for future in self.rows.values():
            future.cancel()
