"""``ClipDetector``: frames -> calibrated frame scores -> per-second segments -> clip score.

Pipeline of one clip:

1. sample up to ``max_frames`` frames uniformly over the clip (``score_file``);
2. screen (``screening.py``): too short, too small, flat, static, slideshow, panned-still or
   heavily compressed clips get label ``abstain`` with a ``code`` and a reason, and no probability;
3. crop letterbox bars (``frames.find_content_box``) and a logo margin; backbone features per frame; head probability per frame, calibrated with
   one sigmoid fitted on out-of-fold scores (folds grouped by source; ``PlattCalibrated``);
   with ``DetectorConfig.temporal`` (the default weights), every frame row also carries the
   clip's temporal vector (``temporal.py``: how fine detail changes over a run of consecutive
   frames after any intro, decoded separately as small luma), and the ``fusion`` head adds a
   temporal logit;
4. frames pool into segments and the clip by the mean of their logits, mapped through a clip-level
   Platt calibrator fitted on out-of-fold clip scores;
5. label: ``synthetic`` at or above ``threshold_high`` (set for the target false-positive rate on
   real validation clips), ``real`` at or below ``threshold_low``, ``inconclusive`` between;
6. face mode (``faces.py``, when the detector carries a face head): faces found by MTCNN,
   tracked over the sampled frames, each track scored by the face head.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.core import InputError
from reelproof.core.io import MediaInfo, MediaLimits
from reelproof.detector.backbones import FeatureExtractor
from reelproof.detector.faces import FaceHead, threshold_label
from reelproof.detector.frames import find_content_box, gray_u8, inner_box
from reelproof.detector.pans import pan_profile
from reelproof.detector.score import DetectorLabel, DetectorScore, FaceTrack, Segment
from reelproof.detector.screening import (
    Abstention,
    ScreenConfig,
    clip_seconds,
    motion_profile,
    screen_bits,
    screen_flat,
    screen_length,
    screen_motion,
    screen_pan,
    screen_size,
    thumbnails,
)

FloatArray = npt.NDArray[np.float64]
LOGIT_CLIP = 8.0


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of one detector (saved with it).

    Attributes:
        backbone: feature extractor name (``list_backbones()``).
        head: classifier head name (``list_heads()``).
        max_frames: frame budget per clip when scoring files.
        segment_seconds: length of the per-segment scores.
        target_fpr: false-positive rate on real validation clips that sets ``threshold_high``.
        target_fnr: miss rate on fake validation clips that sets ``threshold_low``.
        min_side: smallest picture side (after bar removal) the detector will judge.
        folds: cross-validation folds (grouped by source) for calibration and thresholds.
        seed: seeds the head.
        margin: share of the picture left out on every side when choosing patches (logos).
        temporal: every frame row also carries the clip's temporal vector
            (``reelproof.detector.temporal``, from consecutive frames after any intro); the head
            must know the last columns are that vector (``fusion``).
    """

    backbone: str = "forensic"
    head: str = "logistic"
    max_frames: int = 16
    segment_seconds: float = 1.0
    # Half a percent on validation: resampled real footage, the main false-positive risk, sits
    # just above the bulk of real scores, and held-out FPR is what users meet.
    target_fpr: float = 0.005
    target_fnr: float = 0.05
    min_side: int = 64
    folds: int = 4
    seed: int = 0
    margin: float = 0.0
    temporal: bool = False

    def __post_init__(self) -> None:
        # Other heads cannot take the NaN vector of a clip too still to measure, and the
        # fusion head would read the last frame features as a temporal vector.
        if self.temporal != (self.head == "fusion"):
            from reelproof.core import ConfigError

            raise ConfigError(
                f"head {self.head!r} with temporal={self.temporal}: the fusion head and the "
                "temporal features go together",
                hint="use DetectorConfig(head='fusion', temporal=True), or another head alone",
            )


def bits_per_pixel(info: MediaInfo) -> float | None:
    """The file's average coded bits per pixel per frame (heavy compression screening)."""
    pixels = info.width * info.height * max(info.frames, 1)
    return info.size_bytes * 8.0 / pixels if info.size_bytes and pixels else None


def _logit(p: FloatArray) -> FloatArray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.clip(np.log(p / (1 - p)), -LOGIT_CLIP, LOGIT_CLIP)


class ClipDetector:
    """A fitted detector: screening + backbone + calibrated frame head + clip calibrator +
    thresholds, and optionally a face head for face mode.

    Build one with ``reelproof.detector.training.fit_detector`` or ``load_detector``.
    """

    version = "2"

    def __init__(
        self,
        config: DetectorConfig,
        extractor: FeatureExtractor,
        frame_model: Any,
        clip_calibrator: tuple[float, float],
        thresholds: tuple[float, float],
        card: dict[str, Any] | None = None,
        name: str = "reelproof-detector",
        face_head: FaceHead | None = None,
        screen: ScreenConfig | None = None,
    ) -> None:
        self.config = config
        self.face_head = face_head
        self.screen = screen or ScreenConfig(min_side=config.min_side)
        self.extractor = extractor
        self.frame_model = frame_model
        self.clip_calibrator = clip_calibrator
        self.thresholds = thresholds
        self.card: dict[str, Any] = card or {}
        self.name = name
        self.digest = ""  # sha256 of the saved file, set by save/load

    @property
    def model_id(self) -> str:
        """``name@version:digest12`` for reports."""
        digest = f":{self.digest[:12]}" if self.digest else ""
        return f"{self.name}@{self.version}{digest}"

    # ---- frame and clip scores -------------------------------------------------------------

    def frame_probabilities(self, features: npt.NDArray[np.float32]) -> FloatArray:
        """Calibrated p(synthetic) per feature row: (N, D) float32 -> (N,) float64."""
        return np.asarray(self.frame_model.predict_proba(features)[:, 1], dtype=np.float64)

    def pool(self, frame_p: FloatArray) -> float:
        """Clip probability from frame probabilities (mean logit through the clip calibrator)."""
        slope, intercept = self.clip_calibrator
        z = float(np.mean(_logit(frame_p)))
        return 1.0 / (1.0 + math.exp(-(slope * z + intercept)))

    def label_for(self, p: float) -> DetectorLabel:
        """Label for a clip probability under this detector's thresholds."""
        return threshold_label(p, self.thresholds)

    def score_frames(
        self,
        frames: npt.NDArray[np.uint8],
        fps: float,
        timestamps: npt.NDArray[np.float64] | None = None,
        bits_per_pixel: float | None = None,
        faces: bool = False,
        temporal_of: Callable[[], FloatArray] | None = None,
    ) -> DetectorScore:
        """Score sampled frames of one clip.

        Args:
            frames: (T, H, W, 3) uint8 RGB (also accepted: (T, H, W) or (T, H, W, 1) gray).
            fps: frame rate, used for segment times when ``timestamps`` is None.
            timestamps: optional (T,) float64 presentation times in seconds.
            bits_per_pixel: coded bits per pixel per frame of the file, when known (checks
                for heavy compression).
            faces: also run face mode (needs a detector with a face head).
            temporal_of: computes the clip's temporal vector (``temporal_vector``), called
                only once the clip passed screening; without it a detector that uses
                temporal features scores as for a clip with no vector (the fusion head's
                training mean in its place).

        Returns:
            The clip's ``DetectorScore``.
        """
        frames = _as_rgb(frames)
        stamps = (
            np.asarray(timestamps, dtype=np.float64)
            if timestamps is not None
            else np.arange(frames.shape[0], dtype=np.float64) / float(fps)
        )
        cfg = self.screen_config
        abstention = screen_length(frames.shape[0], clip_seconds(stamps, fps), cfg)
        box = find_content_box(gray_u8(frames[:: max(1, frames.shape[0] // 8)]))
        abstention = abstention or screen_size(box.width, box.height, cfg)
        if abstention is None:
            thumbs = thumbnails(frames)
            abstention = (
                screen_flat(thumbs)
                or screen_motion(motion_profile(thumbs), cfg)
                or screen_pan(pan_profile(gray_u8(frames), box), cfg)
                or screen_bits(bits_per_pixel, cfg)
            )
        if abstention is not None:
            return self._abstain(abstention)
        feats, usable, reason = clip_features(
            self.extractor, frames, cfg.min_side, self.config.margin
        )
        if reason is not None:
            return self._abstain(Abstention("flat", reason))
        if self.uses_temporal:
            vector = temporal_of() if temporal_of is not None else None
            feats = with_temporal(feats, vector)
        frame_p = self.frame_probabilities(feats[usable])
        p = self.pool(frame_p)
        label = self.label_for(p)
        code = reason = None
        if label == "inconclusive":
            code, reason = "between_thresholds", "score between the real and synthetic thresholds"
        tracks: tuple[FaceTrack, ...] = ()
        if faces:
            tracks = self.face_tracks(frames, stamps)
        return DetectorScore(
            p_synthetic=p,
            label=label,
            segments=self._segments(frame_p, stamps[usable]),
            frames_used=int(usable.sum()),
            model=self.model_id,
            reason=reason,
            thresholds=self.thresholds,
            code=code,
            faces=tracks,
        )

    @property
    def uses_temporal(self) -> bool:
        """Frame rows end with the clip's temporal vector (models saved before it: no)."""
        return bool(getattr(self.config, "temporal", False))

    def temporal_vector(self, path: str | Path, limits: MediaLimits | None = None) -> FloatArray:
        """The clip's temporal vector: NaN when fewer than three distinct frames are left after
        any intro, or when the consecutive run cannot be measured (damaged past the frames the
        sampler read, or a picture too small for optical flow); the clip is then scored on
        its frame features alone."""
        import cv2

        from reelproof.core.errors import MediaDecodeError
        from reelproof.core.io import DEFAULT_LIMITS
        from reelproof.detector.temporal import TEMPORAL_DIM, clip_temporal_features

        try:
            vector = clip_temporal_features(Path(path), limits=limits or DEFAULT_LIMITS)
        except (MediaDecodeError, cv2.error):
            return np.full(TEMPORAL_DIM, np.nan)
        return np.asarray(vector, dtype=np.float64)

    @property
    def screen_config(self) -> ScreenConfig:
        """The screening limits (models saved before screening existed get the defaults)."""
        stored = getattr(self, "screen", None)
        if isinstance(stored, ScreenConfig):
            return stored
        return ScreenConfig(min_side=self.config.min_side)

    def face_tracks(
        self, frames: npt.NDArray[np.uint8], stamps: npt.NDArray[np.float64]
    ) -> tuple[FaceTrack, ...]:
        """Face mode: MTCNN faces tracked over the frames, each track scored by the face head.

        Raises:
            ConfigError: this detector has no face head (train one with the default script).
        """
        from reelproof.core import ConfigError

        head = getattr(self, "face_head", None)
        if head is None:
            raise ConfigError(
                f"detector {self.model_id} has no face head",
                hint="use the shipped default weights or retrain with "
                "scripts/train_default_detector.py",
            )
        from reelproof.detector.faces import score_face_tracks

        return score_face_tracks(head, frames, stamps)

    def score_file(
        self, path: str | Path, max_frames: int | None = None, faces: bool = False
    ) -> DetectorScore:
        """Score a video file from up to ``max_frames`` frames sampled uniformly over it.

        Args:
            path: the video file.
            max_frames: frame budget (default: the detector's ``max_frames``).
            faces: also run face mode.
        """
        from reelproof.core.io import probe
        from reelproof.detector.sampling import sample_frames

        budget = max_frames or self.config.max_frames
        info = probe(Path(path))
        frames, stamps, fps = sample_frames(Path(path), budget)
        bpp = bits_per_pixel(info)
        return self.score_frames(
            frames,
            fps,
            stamps,
            bits_per_pixel=bpp,
            faces=faces,
            temporal_of=lambda: self.temporal_vector(path),
        )

    @property
    def has_face_head(self) -> bool:
        """Face mode is available (a face head was trained and saved with this detector)."""
        return getattr(self, "face_head", None) is not None

    def _segments(self, frame_p: FloatArray, stamps: FloatArray) -> tuple[Segment, ...]:
        length = self.config.segment_seconds
        index = np.floor(stamps / length).astype(int)
        out = []
        for k in np.unique(index):
            p = self.pool(frame_p[index == k])
            out.append(Segment(round(float(k) * length, 3), round(float(k + 1) * length, 3), p))
        return tuple(out)

    def _abstain(self, abstention: Abstention) -> DetectorScore:
        return DetectorScore(
            p_synthetic=None,
            label="abstain",
            segments=(),
            frames_used=0,
            model=self.model_id,
            reason=abstention.reason,
            thresholds=self.thresholds,
            code=abstention.code,
        )

    # ---- persistence -----------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the detector (joblib) and its card (``<path>.card.json``); returns ``path``."""
        import json

        import joblib  # type: ignore[import-untyped]

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.digest = ""
        joblib.dump(self, path, compress=3)
        self.digest = _sha256(path)
        card = {**self.card, "model": self.model_id, "sha256": self.digest}
        card_path = path.with_name(path.name + ".card.json")
        card_path.write_text(json.dumps(card, indent=2, default=str) + "\n")
        return path


def clip_features(
    extractor: FeatureExtractor,
    frames: npt.NDArray[np.uint8],
    min_side: int,
    margin: float = 0.0,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], str | None]:
    """Features of one clip's frames, exactly as training and scoring both compute them.

    Letterbox bars are cropped first (their edge would look like a strong artefact), then a
    ``margin`` share of the picture on every side (logos and overlays sit there).

    Args:
        extractor: the backbone.
        frames: (T, H, W, 3) uint8 RGB.
        min_side: smallest usable picture side in pixels (measured before the margin).
        margin: share of the picture's height/width left out on every side.

    Returns:
        (features (T, D) float32, usable (T,) bool, reason) where ``reason`` says why no frame
        is usable (None when some are).
    """
    frames = _as_rgb(frames)
    box = find_content_box(gray_u8(frames[:: max(1, frames.shape[0] // 8)]))
    n = frames.shape[0]
    if min(box.height, box.width) < min_side:
        reason = (
            f"too small: picture is {box.width}x{box.height} after removing bars, "
            f"under {min_side} pixels"
        )
        return np.zeros((n, extractor.dim), np.float32), np.zeros(n, bool), reason
    if margin > 0:
        box = inner_box(box, margin)
    cropped = np.ascontiguousarray(frames[:, box.top : box.bottom, box.left : box.right])
    feats = extractor.extract(cropped)
    usable: npt.NDArray[np.bool_] = np.asarray(np.isfinite(feats).all(axis=1))
    if not usable.any():
        return feats, usable, "no textured area: frames are flat or blank"
    return feats, usable, None


def with_temporal(
    feats: npt.NDArray[np.float32], vector: npt.NDArray[np.floating[Any]] | None
) -> npt.NDArray[np.float32]:
    """Frame rows with the clip's temporal vector appended (NaN when it is not known: the
    fusion head then puts its training mean in its place)."""
    from reelproof.detector.temporal import TEMPORAL_DIM

    extra = np.full((feats.shape[0], TEMPORAL_DIM), np.nan, dtype=np.float32)
    if vector is not None:
        extra[:] = np.asarray(vector, dtype=np.float32)
    return np.concatenate([feats, extra], axis=1)


def _as_rgb(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    arr = np.asarray(frames)
    if arr.dtype != np.uint8:
        raise InputError(f"frames must be uint8, got {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3) or arr.shape[0] == 0:
        raise InputError(f"frames must have shape (T, H, W, 3) with T >= 1, got {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
