"""``reelproof eval detector``: the classifier on real generators -> docs/benchmarks/detector.md.

Protocol (splits by generator family and by camera source, never by frame):

- data: the shared real-generator clips (``../shared/aivideo``) with format controls (camera
  clips passed through the GIF-palette / frame-rate / downscale chains, kept as camera);
- leave-one-family-out for every family (``detector_splits.leave_one_family_out``), for the
  shipped detector (forensic features + the traces CNN, one CNN trained per camera fold and
  group of families, never on the held-out ones, fused with the temporal noise features), for
  the same without the temporal features, for the forensic and the temporal features alone,
  and for a format-only baseline (frame rate, size, length, bits per pixel, palette size)
  under the same splits;
- grouped hold-out with the full calibrated pipeline: ECE, TPR and FPR at the "synthetic"
  threshold on held-out families and sources;
- out of domain, with the shipped weights, on camera sources never trained on (``make data``
  and ``make data-extra`` photos and opencv-doc's videos): stills recorded as 5-s movies,
  photo pans, letterboxed and vertical versions, heavy compression; CGI as "not camera"; and
  how many shared clips the panned-still screening rule would wrongly stop;
- face mode: leave-one-family-out over the face-swap and talking-head families;
- speed of a 10-s 720p clip, weights size, and example frames of failure cases.

Without the shared clips, or without ``make data-extra``, the benchmark stops with a ConfigError
that says what to run (a smaller out-of-domain set would read as a regression). The face samples
are made on first use (about a minute of MTCNN) and cached beside the features.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from reelproof.detector.face_training import FaceSamples

from reelproof.detector.training import VideoFeatures
from reelproof.eval.detector_splits import ClipScore

Log = Callable[[str], None]
FAILURES_DIR = Path("docs/benchmarks/detector_failures")


@dataclass(frozen=True)
class DetectorBenchConfig:
    """Benchmark settings.

    Attributes:
        data_dir: the project's real footage (``make data``, ``make data-extra``).
        work_dir: cache for controls, features and out-of-domain clips.
        aivideo: the shared clips (default: ``$REELPROOF_AIVIDEO`` or ``../shared/aivideo``).
        max_frames: frames sampled per clip.
        head: classifier head.
        folds: folds of camera sources (LOFO) and of families + sources (grouped hold-out).
        seed: seeds folds and heads.
        timing_repeats: timed runs of the 720p scoring.
    """

    data_dir: Path = Path("data")
    work_dir: Path = Path("data/detector")
    aivideo: Path | None = None
    max_frames: int = 8
    head: str = "logistic"
    folds: int = 4
    seed: int = 0
    timing_repeats: int = 3


def run_detector_benchmark(
    out: Path, cfg: DetectorBenchConfig | None = None, log: Log = print
) -> Path:
    """Run the whole protocol and write the Markdown report to ``out``."""
    from reelproof.detector import load_detector
    from reelproof.detector.backbones import create_backbone
    from reelproof.detector.face_training import cached_face_samples
    from reelproof.detector.heads import create_head
    from reelproof.detector.realgen import (
        SHIPPED_MARGIN,
        aivideo_features,
        require_aivideo,
        shipped_config,
    )
    from reelproof.detector.temporal_data import join_vectors, set_vectors, vectors_by_path
    from reelproof.detector.traces import PatchExtractor
    from reelproof.detector.traces_training import traces_for
    from reelproof.eval.detector_ood import out_of_domain, pan_check
    from reelproof.eval.detector_report import Report, write_report
    from reelproof.eval.detector_splits import grouped_holdout, leave_one_family_out
    from reelproof.eval.detector_temporal import temporal_sets

    cfg = cfg or DetectorBenchConfig()
    started = time.monotonic()
    aivideo = require_aivideo(cfg.aivideo)
    require_extra_data(cfg.data_dir)
    work = cfg.work_dir / "aivideo"
    face_samples = cached_face_samples(aivideo, cfg.data_dir, work / "faces.npz", log)
    extractor = create_backbone("forensic")
    sets = aivideo_features(aivideo, work, extractor, cfg.max_frames, SHIPPED_MARGIN, log)
    patches = aivideo_features(aivideo, work, PatchExtractor(), cfg.max_frames, SHIPPED_MARGIN, log)

    def head(name: str = cfg.head) -> Any:
        return create_head(name, random_state=cfg.seed)

    def fusion() -> Any:
        return head("fusion")

    tables = set_vectors(sets, work / "features", log)
    vectors = vectors_by_path(sets, tables)
    # Each split trains its own traces CNN on the clips it may train on; the shipped and the
    # frames-only runs share it (the same rule gives the same CNN).
    traces_cache: dict[frozenset[str], dict[str, VideoFeatures]] = {}

    def frames_only(rule: Callable[[Any], bool]) -> dict[str, VideoFeatures]:
        # The CNN trains on the patches the rule keeps: they are the key.
        key = frozenset(str(v.path) for f in patches.values() for v in f.videos if rule(v))
        if key not in traces_cache:  # about 1 MB of features per split
            traces_cache[key] = traces_for(sets, patches, rule, cfg.seed)
        return traces_cache[key]

    def prepare(rule: Callable[[Any], bool]) -> dict[str, VideoFeatures]:
        return join_vectors(frames_only(rule), vectors)

    log("leave-one-family-out: forensic features alone")
    lofo_forensic = leave_one_family_out(sets, head, real_folds=cfg.folds, seed=cfg.seed)
    log("leave-one-family-out: temporal noise features alone (consecutive frames)")
    clip_sets = temporal_sets(sets, tables)
    lofo_temporal = leave_one_family_out(clip_sets, head, real_folds=cfg.folds, seed=cfg.seed)
    log("leave-one-family-out: shipped detector (a CNN per split, temporal features fused)")
    lofo = leave_one_family_out(
        sets, fusion, real_folds=cfg.folds, seed=cfg.seed, log=log, prepare=prepare
    )
    log("leave-one-family-out: the same on frame features only (the same CNNs)")
    lofo_frames = leave_one_family_out(
        sets, head, real_folds=cfg.folds, seed=cfg.seed, log=log, prepare=frames_only
    )
    log("leave-one-family-out: format-only baseline")
    fmt_sets = {name: format_features(f) for name, f in sets.items()}
    fmt = leave_one_family_out(fmt_sets, head, real_folds=cfg.folds, seed=cfg.seed, log=log)
    det_cfg = shipped_config(cfg.seed)
    held, _models = grouped_holdout(
        sets, det_cfg, folds=cfg.folds, seed=cfg.seed, log=log, prepare=prepare
    )
    shipped = load_detector()
    ood = out_of_domain(shipped, cfg.data_dir, cfg.work_dir, log)
    pans = pan_check(sets["orig"].videos, shipped.config.max_frames, log)
    faces = face_lofo(face_samples, cfg.folds, cfg.seed)
    timing = time_720p(cfg, aivideo, log)
    failures = write_failure_frames(held, out.parent / FAILURES_DIR.name)
    report = Report(
        lofo=lofo,
        lofo_forensic=lofo_forensic,
        fmt=fmt,
        held=held,
        ood=ood,
        faces=faces,
        timing=timing,
        failures=failures,
        shipped=shipped,
        weights_bytes=_weights_size(),
        seconds=time.monotonic() - started,
        max_frames=cfg.max_frames,
        pans=pans,
        lofo_temporal=lofo_temporal,
        lofo_frames=lofo_frames,
    )
    return write_report(out, report)


def require_extra_data(data_dir: Path) -> None:
    """Refuse to run without ``make data-extra``'s camera videos: the out-of-domain slices would
    quietly shrink (no camera-video rows, 13 instead of 36 photos) and read as a regression."""
    from reelproof.core import ConfigError
    from reelproof.eval.detector_ood import EXTRA_VIDEOS

    missing = [n for n in EXTRA_VIDEOS if not (data_dir / "video" / f"{n}.mp4").is_file()]
    if missing:
        raise ConfigError(
            f"the out-of-domain camera videos ({', '.join(missing)}) are not in {data_dir}/video",
            hint="run `make data-extra`: it fetches Debian's opencv-doc videos and photos",
        )


def _weights_size() -> int:
    from importlib import resources

    ref = resources.files("reelproof.detector") / "weights" / "default.joblib"
    with resources.as_file(ref) as path:
        return path.stat().st_size


# ---- format-only baseline ---------------------------------------------------------------------


def clip_format(path: Path) -> list[float]:
    """What a shortcut learner could read without looking at generation traces: frame rate,
    size, length, coded bits per pixel, and the palette size of the first frame."""
    from reelproof.core.io import probe
    from reelproof.detector.sampling import sample_frames

    info = probe(path)
    frames, _stamps, _fps = sample_frames(path, 1)
    flat = frames[0].reshape(-1, 3)
    colours = len(np.unique(flat[:, 0].astype(np.int32) << 16 | flat[:, 1] << 8 | flat[:, 2]))
    bpp = info.size_bytes * 8.0 / max(1, info.width * info.height * max(info.frames, 1))
    return [
        float(info.fps),
        float(np.log(info.width)),
        float(np.log(info.height)),
        float(np.log(min(info.width, info.height))),
        float(np.log(max(info.frames, 1))),
        float(np.log(bpp + 1e-6)),
        float(np.log(colours / flat.shape[0])),
    ]


def format_features(feats: VideoFeatures) -> VideoFeatures:
    """One format row per clip (the same videos, labels, families and sources)."""
    rows = np.array([clip_format(v.path) for v in feats.videos], dtype=np.float32)
    return VideoFeatures(X=rows, video=np.arange(len(feats.videos)), videos=feats.videos)


# ---- face mode --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceRow:
    """Face-mode held-out figures of one family."""

    family: str
    tracks: int
    real_tracks: int
    auc: float | None
    auc_sbi_only: float | None


def face_lofo(s: FaceSamples, folds: int, seed: int) -> list[FaceRow]:
    """Leave-one-face-family-out AUC of the face head (and of a head trained on self-blended
    faces alone), camera sources held out by fold."""
    from sklearn.metrics import roc_auc_score

    from reelproof.detector.aivideo import FACE_FAMILIES
    from reelproof.detector.face_training import SBI_FAMILY, fit_face_model, track_logits

    realish = np.isin(s.family, ["real", SBI_FAMILY])
    order = sorted({str(x) for x in s.source[realish]})
    np.random.default_rng(seed).shuffle(order)
    fold_of = {x: i % folds for i, x in enumerate(order)}
    src_fold = np.array([fold_of.get(str(x), -1) for x in s.source])
    rows = []
    for family in FACE_FAMILIES:
        scores: dict[bool, tuple[list[float], list[float]]] = {False: ([], []), True: ([], [])}
        for k in range(folds):
            for sbi_only in (False, True):
                train = (s.family != family) & ~(realish & (src_fold == k))
                if sbi_only:
                    train &= realish
                model = fit_face_model(s.take(train), seed)
                fake = track_logits(model, s.take(s.family == family))
                real = track_logits(model, s.take((s.family == "real") & (src_fold == k)))
                scores[sbi_only][0].extend(real.values())
                scores[sbi_only][1].extend(fake.values())
        aucs = []
        for sbi_only in (False, True):
            real_z, fake_z = scores[sbi_only]
            ok = real_z and fake_z
            y = [0] * len(real_z) + [1] * len(fake_z)
            aucs.append(float(roc_auc_score(y, real_z + fake_z)) if ok else None)
        n_fake = len(scores[False][1]) // folds
        rows.append(FaceRow(family, n_fake, len(scores[False][0]), aucs[0], aucs[1]))
    return rows


# ---- speed ------------------------------------------------------------------------------------


def time_720p(cfg: DetectorBenchConfig, aivideo: Path, log: Log) -> dict[str, Any]:
    """Seconds to score a 10-s 1280x720 H.264 clip (16 frames), without and with face mode.

    The clip is a 720p camera clip with a face from the shared folder, ping-ponged to 10 s;
    each timing runs in a fresh interpreter, as ``reelproof detector score`` does.
    """
    from reelproof.core.io import read_clip
    from reelproof.eval.detector_ood import write_clip

    path = cfg.work_dir / "timing_720p_10s_face.mp4"
    if not path.is_file():
        frames = np.asarray(read_clip(aivideo / "real" / "camera__DeepFaceLive__15.mp4").frames)
        loop = np.concatenate([frames, frames[::-1]] * 3)[:250]
        write_clip(path, loop, fps=25, crf=23)
    spawn = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {"cores": os.cpu_count(), "runs": cfg.timing_repeats}
    for mode in (False, True):
        with spawn.Pool(1) as pool:
            out["faces" if mode else "full"] = pool.apply(
                _time_clip, (str(path), cfg.timing_repeats, mode)
            )
    out["load"] = os.getloadavg()[0]
    log(f"timing: {out}")
    return out


def _time_clip(path: str, repeats: int, faces: bool) -> dict[str, float]:
    from reelproof.detector import load_detector

    det = load_detector()
    det.score_file(path, faces=faces)  # warm caches (imports, MTCNN weights, first decode)
    runs, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        det.score_file(path, max_frames=16, faces=faces)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"median_s": statistics.median(runs), "cpu_s": statistics.median(cpu)}


# ---- failure cases ----------------------------------------------------------------------------


def write_failure_frames(held: list[ClipScore], folder: Path) -> list[tuple[str, str, float]]:
    """PNG frames of the worst held-out misses: the highest-scored camera clips and the
    lowest-scored generated clips. Returns (png name, what, p) rows."""
    from PIL import Image

    from reelproof.detector.sampling import sample_frames

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.png"):
        stale.unlink()
    real = sorted((s for s in held if s.label == 0), key=lambda s: -s.score)[:3]
    fake = sorted((s for s in held if s.label == 1), key=lambda s: s.score)[:3]
    rows = []
    for kind, scores in (("camera scored high", real), ("generated scored low", fake)):
        for s in scores:
            frames, _stamps, _fps = sample_frames(Path(s.path), 1)
            image = Image.fromarray(frames[0])
            image.thumbnail((320, 320))
            name = (
                f"{'camera' if s.label == 0 else 'generated'}_{Path(s.path).stem}_{s.variant}.png"
            )
            image.save(folder / name)
            rows.append((name, f"{kind}: {s.family}, {s.source}, {s.variant}", s.score))
    return rows
