"""Loading saved detectors (joblib files written by ``ClipDetector.save``)."""

from __future__ import annotations

import warnings
from pathlib import Path

from reelproof.core import ConfigError
from reelproof.detector.model import ClipDetector, _sha256


def load_model_file(path: Path) -> ClipDetector:
    """Load a detector file and stamp it with the file's sha256.

    Raises:
        ConfigError: missing file, unreadable file, or not a ``ClipDetector``.
    """
    import joblib  # type: ignore[import-untyped]

    if not path.is_file():
        raise ConfigError(
            f"{path}: no such detector file",
            hint="train one with `reelproof detector train --data DIR --out FILE`",
        )
    try:
        with warnings.catch_warnings():
            # A scikit-learn minor-version change warns; the card records the training version.
            warnings.simplefilter("ignore")
            model = joblib.load(path)
    except Exception as err:
        raise ConfigError(
            f"{path}: not a readable detector file ({type(err).__name__}: {err})",
            hint="retrain it with `reelproof detector train`",
        ) from err
    if not isinstance(model, ClipDetector):
        raise ConfigError(f"{path}: holds a {type(model).__name__}, not a ClipDetector")
    model.digest = _sha256(path)
    return model
