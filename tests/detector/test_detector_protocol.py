"""The feature cache of the offline protocol: reused only while what it was computed from holds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.detector.backbones import ForensicExtractor
from reelproof.detector.protocol import root_features

from .conftest import camera_like_frames, write_mp4


class CountingExtractor(ForensicExtractor):
    """The real forensic features, counting how many frame batches were extracted."""

    def __init__(self, groups: tuple[str, ...] = ("residual",)) -> None:
        super().__init__("counting", groups)
        self.calls = 0

    def extract(self, frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        self.calls += 1
        return super().extract(frames)


def test_cache_reused_then_invalidated(tiny_dataset: Path, tmp_path: Path) -> None:
    root = Path(shutil.copytree(tiny_dataset, tmp_path / "data"))
    cache = tmp_path / "cache"

    first = CountingExtractor()
    fresh = root_features(root, first, max_frames=2, cache_dir=cache)
    assert first.calls > 0

    again = CountingExtractor()
    cached = root_features(root, again, max_frames=2, cache_dir=cache)
    assert again.calls == 0, "an unchanged root must come from the cache"
    np.testing.assert_array_equal(cached.X, fresh.X)
    assert [v.path for v in cached.videos] == [v.path for v in fresh.videos]

    # Same name, different content: a re-encoded file must not reuse the old features.
    target = root / "real" / "src0__c0.mp4"
    write_mp4(target, camera_like_frames(seed=99), crf=30)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    after_edit = CountingExtractor()
    root_features(root, after_edit, max_frames=2, cache_dir=cache)
    assert after_edit.calls > 0

    # Same extractor name, different feature groups: a different extractor, so recompute.
    other = CountingExtractor(groups=("residual", "spectrum"))
    out = root_features(root, other, max_frames=2, cache_dir=cache)
    assert other.calls > 0
    assert out.X.shape[1] == other.dim
