"""Face mode: find faces (MTCNN), track them over the sampled frames, score each track.

Face swaps and talking-head generators change a face and leave the rest of the frame as the
camera recorded it, so full-frame traces miss them. Face mode reads what such edits leave at
the face: a blend boundary, and a face whose sharpness, noise and colour differ from the skin
and background around it. ``face_features`` measures those contrasts on each detected face
(pure numpy/OpenCV, native resolution, no resizing of the pixels it measures); a logistic head
trained on self-blended faces (Shiohara & Yamasaki, CVPR 2022: a real face blended with a
slightly changed copy of itself, see ``blending.py``) and on face-swap and talking-head clips
scores them.

MTCNN (Zhang et al. 2016) comes from the ``facenet-pytorch`` wheel, which ships its weights;
nothing is downloaded. It runs on a copy of each frame scaled so the long side is at most
``DETECT_SIDE`` pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.detector.score import DetectorLabel, FaceTrack

UInt8Array = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]

DETECT_SIDE = 320
DETECT_FRAMES = 4  # sampled frames face mode searches (MTCNN dominates its cost)
MIN_FACE = 40  # pixels in the original frame; smaller faces carry too little texture
MIN_PROB = 0.95
TRACK_IOU = 0.2
THUMB_SIDE = 96
FACE_DIM = 20


@dataclass(frozen=True)
class FaceBox:
    """One detection: box corners in pixels of the full frame and the 5 MTCNN landmarks."""

    x0: float
    y0: float
    x1: float
    y1: float
    prob: float
    landmarks: tuple[tuple[float, float], ...]

    @property
    def side(self) -> float:
        return min(self.x1 - self.x0, self.y1 - self.y0)


_DETECTOR: Any = None


def _mtcnn() -> Any:
    """The MTCNN detector (built once per process; its weights ship in the wheel)."""
    global _DETECTOR
    if _DETECTOR is None:
        try:
            from facenet_pytorch import MTCNN  # type: ignore[import-untyped]
        except ImportError as err:  # pragma: no cover - dev installs have it
            from reelproof.core import ConfigError

            raise ConfigError(
                "face mode needs the facenet-pytorch wheel",
                hint="pip install --no-deps facenet-pytorch (make install does it)",
            ) from err
        _DETECTOR = MTCNN(keep_all=True, min_face_size=32, device="cpu", post_process=False)
    return _DETECTOR


def detect_faces(frames: UInt8Array) -> list[list[FaceBox]]:
    """MTCNN faces per frame, in full-frame pixel coordinates.

    Args:
        frames: (T, H, W, 3) uint8 RGB, all the same size.

    Returns:
        One list per frame of faces with probability >= ``MIN_PROB`` and side >= ``MIN_FACE``.
    """
    import cv2
    import torch

    t, h, w = frames.shape[:3]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    else:
        small = frames
    # One intra-op thread: MTCNN's small convolutions gain nothing from a second one, and on
    # a shared machine torch's waiting threads made face mode 3-5x slower (wall and CPU).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            boxes, probs, points = _mtcnn().detect(list(small), landmarks=True)
    finally:
        torch.set_num_threads(threads)
    out: list[list[FaceBox]] = []
    for k in range(t):
        found: list[FaceBox] = []
        if boxes[k] is not None:
            for box, prob, pts in zip(boxes[k], probs[k], points[k], strict=True):
                x0, y0, x1, y1 = (float(v) / scale for v in box)
                face = FaceBox(
                    x0,
                    y0,
                    x1,
                    y1,
                    prob=float(prob),
                    landmarks=tuple((float(x) / scale, float(y) / scale) for x, y in pts),
                )
                if face.prob >= MIN_PROB and face.side >= MIN_FACE:
                    found.append(face)
        out.append(found)
    return out


def _iou(a: FaceBox, b: FaceBox) -> float:
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union > 0 else 0.0


def track_faces(per_frame: list[list[FaceBox]]) -> list[list[tuple[int, FaceBox]]]:
    """Greedy IoU tracking: each face joins the track whose last box overlaps it most.

    Returns:
        Tracks in order of first appearance, each a list of (frame index, box).
    """
    tracks: list[list[tuple[int, FaceBox]]] = []
    for k, faces in enumerate(per_frame):
        taken: set[int] = set()
        for face in sorted(faces, key=lambda f: -f.prob):
            best, best_iou = -1, TRACK_IOU
            for i, track in enumerate(tracks):
                last_k, last = track[-1]
                if i in taken or last_k == k:
                    continue
                overlap = _iou(face, last)
                if overlap > best_iou:
                    best, best_iou = i, overlap
            if best < 0:
                tracks.append([(k, face)])
                taken.add(len(tracks) - 1)
            else:
                tracks[best].append((k, face))
                taken.add(best)
    return tracks


def _luma(rgb: UInt8Array) -> npt.NDArray[np.float32]:
    import cv2

    return np.asarray(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY), np.float32)


def _laplacian_abs(luma: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import cv2

    return np.abs(cv2.Laplacian(luma, cv2.CV_32F, ksize=1))


def face_features(frame: UInt8Array, face: FaceBox) -> npt.NDArray[np.float32] | None:
    """Contrasts between a face and its surroundings (``FACE_DIM`` values), or None when the
    face's surroundings leave the frame.

    Regions, on the native pixels: the inner face (an ellipse over the central part of the box),
    the blend band (a ring at the box's edge, where swaps and pasted talking heads are
    blended), and the outer ring (skin, hair and background around the face).

    Args:
        frame: (H, W, 3) uint8 RGB.
        face: the detection.

    Returns:
        (FACE_DIM,) float32.
    """
    import cv2

    cx, cy = (face.x0 + face.x1) / 2, (face.y0 + face.y1) / 2
    half = max(face.x1 - face.x0, face.y1 - face.y0) / 2
    r = round(half * 1.5)
    x0, y0, x1, y1 = int(cx) - r, int(cy) - r, int(cx) + r, int(cy) + r
    h, w = frame.shape[:2]
    x0c, y0c, x1c, y1c = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1c - x0c < 32 or y1c - y0c < 32:
        return None
    crop = frame[y0c:y1c, x0c:x1c]
    yy, xx = np.mgrid[y0c:y1c, x0c:x1c]
    ax, ay = (face.x1 - face.x0) / 2, (face.y1 - face.y0) / 2
    d = np.sqrt(((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2)  # 1.0 on the box's ellipse
    inner, band, outer = d < 0.7, (d >= 0.8) & (d < 1.1), (d >= 1.2) & (d < 1.5)
    if inner.sum() < 64 or band.sum() < 64 or outer.sum() < 64:
        return None
    luma = _luma(crop)
    lap = _laplacian_abs(luma)
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    grad = cv2.magnitude(gx, gy)
    ycc = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2YCrCb).astype(np.float32)
    blur = cv2.GaussianBlur(luma, (0, 0), 2.0)
    fine = np.abs(luma - blur)
    eps = 1e-3

    def stat(x: npt.NDArray[Any], mask: npt.NDArray[np.bool_]) -> float:
        return float(np.mean(x[mask])) + eps

    feats = []
    for x in (lap, fine, grad):
        a, b, c = stat(x, inner), stat(x, band), stat(x, outer)
        feats += [np.log(a / c), np.log(b / c), np.log(b / a), np.log(a)]
    for ch in (1, 2):  # Cr, Cb: colour mismatch of a pasted face
        a, b, c = (float(np.mean(ycc[..., ch][m])) for m in (inner, band, outer))
        feats += [a - c, b - (a + c) / 2]
    # Flat share inside vs outside: generated faces are smoother than camera skin.
    feats += [float(np.mean(lap[inner] < 1.0) - np.mean(lap[outer] < 1.0))]
    # Texture of the inner face relative to its own contrast.
    feats += [np.log(stat(lap, inner) / (float(np.std(luma[inner])) + eps))]
    feats += [np.log(face.side)]
    feats += [np.log(stat(fine, band) / (0.5 * (stat(fine, inner) + stat(fine, outer))))]
    return np.asarray(feats, dtype=np.float32)


def thumbnail_jpeg(frame: UInt8Array, face: FaceBox) -> bytes:
    """A JPEG of the face with some context, at most ``THUMB_SIDE`` pixels a side."""
    import io

    from PIL import Image

    h, w = frame.shape[:2]
    pad = 0.2 * max(face.x1 - face.x0, face.y1 - face.y0)
    x0, y0 = max(0, int(face.x0 - pad)), max(0, int(face.y0 - pad))
    x1, y1 = min(w, int(face.x1 + pad)), min(h, int(face.y1 + pad))
    image = Image.fromarray(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def track_features(
    frames: UInt8Array, stamps: FloatArray
) -> list[tuple[list[tuple[int, FaceBox]], npt.NDArray[np.float32]]]:
    """Tracks with the per-frame features of their faces (rows with no features dropped)."""
    out = []
    for track in track_faces(detect_faces(frames)):
        rows = [face_features(frames[k], face) for k, face in track]
        kept = [(kf, row) for kf, row in zip(track, rows, strict=True) if row is not None]
        if kept:
            out.append(([kf for kf, _ in kept], np.stack([row for _, row in kept])))
    return out


def score_face_tracks(head: Any, frames: UInt8Array, stamps: FloatArray) -> tuple[FaceTrack, ...]:
    """Face mode over sampled frames: detect, track, score with ``head`` (a ``FaceHead``).

    Faces are searched in up to ``DETECT_FRAMES`` of the frames, evenly spaced.
    """
    keep = np.unique(np.linspace(0, frames.shape[0] - 1, DETECT_FRAMES).round().astype(int))
    frames, stamps = frames[keep], stamps[keep]
    tracks = []
    for n, (track, feats) in enumerate(track_features(frames, stamps)):
        p = head.score_track(feats)
        k_mid, mid = track[len(track) // 2]
        box = (int(mid.x0), int(mid.y0), int(mid.x1 - mid.x0), int(mid.y1 - mid.y0))
        tracks.append(
            FaceTrack(
                track_id=n,
                start_s=round(float(stamps[track[0][0]]), 3),
                end_s=round(float(stamps[track[-1][0]]), 3),
                p_synthetic=p,
                label=head.label_for(p),
                box=box,
                frames_used=len(track),
                thumbnail_jpeg=thumbnail_jpeg(frames[k_mid], mid),
            )
        )
    return tuple(tracks)


@dataclass
class FaceHead:
    """Calibrated face classifier: per-face logistic model, mean-logit pooling per track,
    Platt-scaled, with its own thresholds (chosen on validation folds only)."""

    model: Any
    calibrator: tuple[float, float]
    thresholds: tuple[float, float]
    card: dict[str, Any] = field(default_factory=dict)

    def track_logit(self, feats: npt.NDArray[np.float32]) -> float:
        p = np.clip(self.model.predict_proba(feats)[:, 1], 1e-6, 1 - 1e-6)
        return float(np.mean(np.clip(np.log(p / (1 - p)), -8.0, 8.0)))

    def score_track(self, feats: npt.NDArray[np.float32]) -> float:
        slope, intercept = self.calibrator
        return float(1.0 / (1.0 + np.exp(-(slope * self.track_logit(feats) + intercept))))

    def label_for(self, p: float) -> str:
        return threshold_label(p, self.thresholds)


def threshold_label(p: float, thresholds: tuple[float, float]) -> DetectorLabel:
    """ "synthetic" at or above the high threshold, "real" at or below the low one, else
    "inconclusive" (the clip detector and the face head label alike)."""
    low, high = thresholds
    if p >= high:
        return "synthetic"
    if p <= low:
        return "real"
    return "inconclusive"
