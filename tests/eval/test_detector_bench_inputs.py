"""The detector benchmark's inputs: it refuses to run without ``make data-extra`` instead of
writing a smaller report, and the face samples come from one cached source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelproof.core import ConfigError
from reelproof.detector.face_training import cached_face_samples
from reelproof.eval.detector_bench import require_extra_data


def test_missing_extra_videos_are_named_with_the_command_that_fetches_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "video").mkdir()
    (tmp_path / "video" / "vtest.mp4").write_bytes(b"")
    with pytest.raises(ConfigError) as caught:
        require_extra_data(tmp_path)
    assert "tree" in str(caught.value) and "vtest" not in str(caught.value)
    assert "make data-extra" in (caught.value.hint or "")
    (tmp_path / "video" / "tree.mp4").write_bytes(b"")
    require_extra_data(tmp_path)  # both present: no error


def test_face_samples_are_read_back_from_their_cache(tmp_path: Path) -> None:
    cache = tmp_path / "faces.npz"
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.savez(
        cache,
        X=x,
        y=np.array([0, 1, 0]),
        track=np.array(["a", "b", "c"]),
        family=np.array(["real", "self-blended", "real"]),
        source=np.array(["s", "s", "t"]),
    )
    # No manifest at all: only a cache hit can answer without touching the clips.
    samples = cached_face_samples(tmp_path / "no-such-folder", tmp_path, cache, log=None)
    assert np.array_equal(samples.X, x)
    assert list(samples.family) == ["real", "self-blended", "real"]
