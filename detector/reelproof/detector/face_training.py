"""Face-head data and fitting: faces from clips and photos, self-blended positives, LOFO.

Every face sample is one detected face in one sampled frame, with the id of its clip (so a
track's frames stay together) and its source (splits group by source). Frames pass through the
same JPEG round trip whether real or blended, so the head cannot learn "was re-encoded".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.detector.datasets import LabeledVideo
from reelproof.detector.faces import (
    FACE_DIM,
    FaceHead,
    detect_faces,
    face_features,
    track_faces,
)

Log = Callable[[str], None]
FACE_PHOTOS = ("astronaut.png", "grace_hopper.jpg", "messi5.jpg")
"""Real face photos of ``make data`` added to the camera faces (one face each, self-blended)."""
UInt8Array = npt.NDArray[np.uint8]
SBI_FAMILY = "self-blended"
JPEG_QUALITY = 92
TRAIN_FRAMES = 6  # frames per clip searched for faces when building training data


@dataclass(frozen=True)
class FaceSamples:
    """Per-face-frame features.

    Attributes:
        X: (N, FACE_DIM) float32.
        y: (N,) 1 for swapped/generated/self-blended faces.
        track: (N,) track key ("<clip path>#<track>" or "<clip path>#sbi<track>").
        family: (N,) generator family, "self-blended", or "real".
        source: (N,) source id (real clips' repository; generated clips' family).
    """

    X: npt.NDArray[np.float32]
    y: npt.NDArray[np.int64]
    track: npt.NDArray[np.str_]
    family: npt.NDArray[np.str_]
    source: npt.NDArray[np.str_]

    def take(self, mask: npt.NDArray[np.bool_]) -> FaceSamples:
        return FaceSamples(
            self.X[mask], self.y[mask], self.track[mask], self.family[mask], self.source[mask]
        )

    @staticmethod
    def concat(parts: Sequence[FaceSamples]) -> FaceSamples:
        return FaceSamples(
            np.concatenate([p.X for p in parts]).astype(np.float32),
            np.concatenate([p.y for p in parts]),
            np.concatenate([p.track for p in parts]),
            np.concatenate([p.family for p in parts]),
            np.concatenate([p.source for p in parts]),
        )


def _jpeg(frame: UInt8Array) -> UInt8Array:
    import cv2

    ok, buf = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert ok and decoded is not None
    return np.ascontiguousarray(decoded[..., ::-1])


def clip_face_samples(
    frames: UInt8Array, key: str, label: int, family: str, source: str, sbi_seed: int | None
) -> FaceSamples:
    """Face samples of one clip's frames; with ``sbi_seed`` also one self-blended copy of
    every real face (label 1, family "self-blended", same source)."""
    from reelproof.detector.blending import self_blend

    rows: list[tuple[npt.NDArray[np.float32], int, str, str]] = []
    rng = np.random.default_rng(sbi_seed)
    for t, track in enumerate(track_faces(detect_faces(frames))):
        for k, face in track:
            feats = face_features(_jpeg(frames[k]), face)
            if feats is None:
                continue
            rows.append((feats, label, f"{key}#{t}", family))
            if sbi_seed is not None and label == 0:
                blended = face_features(_jpeg(self_blend(frames[k], face, rng)), face)
                if blended is not None:
                    rows.append((blended, 1, f"{key}#sbi{t}", SBI_FAMILY))
    if not rows:
        return empty_samples()
    return FaceSamples(
        np.stack([r[0] for r in rows]),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
        np.array([source] * len(rows)),
    )


def empty_samples() -> FaceSamples:
    return FaceSamples(
        np.zeros((0, FACE_DIM), np.float32),
        np.zeros(0, np.int64),
        np.zeros(0, str),
        np.zeros(0, str),
        np.zeros(0, str),
    )


def video_face_samples(
    videos: Sequence[LabeledVideo], frames_per_clip: int = TRAIN_FRAMES, log: Log | None = None
) -> FaceSamples:
    """Face samples of videos (self-blended copies of the real ones' faces included)."""
    from tqdm import tqdm

    from reelproof.detector.sampling import sample_frames

    parts = []
    for n, video in enumerate(tqdm(videos, desc="faces", disable=log is None)):
        frames, _stamps, _fps = sample_frames(video.path, frames_per_clip)
        parts.append(
            clip_face_samples(
                frames, str(video.path), video.label, video.family, video.source, sbi_seed=n
            )
        )
    return FaceSamples.concat(parts)


def photo_face_samples(paths: Sequence[Path], copies: int = 4) -> FaceSamples:
    """Real faces in still photos (each its own source) with ``copies`` self-blends each."""
    from PIL import Image

    parts = []
    for n, path in enumerate(paths):
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
        frames = np.stack([rgb] * copies)
        parts.append(clip_face_samples(frames, str(path), 0, "real", path.stem, sbi_seed=1000 + n))
    return FaceSamples.concat(parts)


def track_logits(head_model: Any, s: FaceSamples) -> dict[str, float]:
    """Mean face logit per track key."""
    p = np.clip(head_model.predict_proba(s.X)[:, 1], 1e-6, 1 - 1e-6)
    z = np.clip(np.log(p / (1 - p)), -8.0, 8.0)
    out: dict[str, list[float]] = {}
    for key, value in zip(s.track, z, strict=True):
        out.setdefault(str(key), []).append(float(value))
    return {k: float(np.mean(v)) for k, v in out.items()}


def fit_face_model(s: FaceSamples, seed: int = 0) -> Any:
    """Standardised, class-balanced logistic regression on face features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=0.5, class_weight="balanced", max_iter=5000, random_state=seed),
    )
    return model.fit(s.X, s.y)


def fit_face_head(
    s: FaceSamples, folds: int = 4, target_fpr: float = 0.01, seed: int = 0
) -> FaceHead:
    """Fit the face head; calibration and thresholds from source-grouped out-of-fold tracks."""
    from sklearn.model_selection import GroupKFold

    from reelproof.detector.training import choose_thresholds, fit_clip_calibrator

    z_oof: dict[str, float] = {}
    label_of = {str(k): int(v) for k, v in zip(s.track, s.y, strict=True)}
    for train, test in GroupKFold(n_splits=folds).split(s.X, s.y, s.source):
        model = fit_face_model(s.take(_mask(len(s.y), train)), seed)
        z_oof.update(track_logits(model, s.take(_mask(len(s.y), test))))
    keys = sorted(z_oof)
    z = np.array([z_oof[k] for k in keys])
    y = np.array([label_of[k] for k in keys])
    slope, intercept = fit_clip_calibrator(z, y)
    p = 1.0 / (1.0 + np.exp(-(slope * z + intercept)))
    thresholds = choose_thresholds(p, y, target_fpr, 0.05)
    card = {
        "face_samples": len(s.y),
        "tracks": len(keys),
        "families": sorted({str(f) for f in s.family}),
        "sources": sorted({str(x) for x in s.source}),
        "target_fpr": target_fpr,
        "thresholds": list(thresholds),
        "calibrator": [slope, intercept],
    }
    return FaceHead(fit_face_model(s, seed), (slope, intercept), thresholds, card)


def _mask(n: int, index: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(n, dtype=bool)
    mask[index] = True
    return mask


def cached_face_samples(
    aivideo: Path, data: Path, cache: Path, log: Log | None = print
) -> FaceSamples:
    """Face samples of the shared clips, carphone and ``FACE_PHOTOS``, cached in ``cache``.

    One source for the default-weights script (which trains the face head on them) and the
    benchmark (which holds face families out of them): about a minute of MTCNN on 2 cores the
    first time.
    """
    from reelproof.detector.aivideo import read_manifest  # deferred: reads the manifest only

    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            return FaceSamples(z["X"], z["y"], z["track"], z["family"], z["source"])
    videos = read_manifest(aivideo)
    carphone = data / "video" / "carphone_pristine.mp4"
    if carphone.is_file():
        videos.append(LabeledVideo(carphone, 0, "real", "carphone"))
    photos = [data / "photos" / name for name in FACE_PHOTOS if (data / "photos" / name).is_file()]
    s = FaceSamples.concat([video_face_samples(videos, log=log), photo_face_samples(photos)])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, X=s.X, y=s.y, track=s.track, family=s.family, source=s.source)
    return s
