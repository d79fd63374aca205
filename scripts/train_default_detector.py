#!/usr/bin/env python3
"""Train the shipped default detector weights, reproducibly (seeded).

Steps (cached under ``--work``; a re-run reuses what is there):

1. the shared real-generator clips (``../shared/aivideo`` or ``--aivideo``) and their format
   controls: every clip, camera and generated alike, also as an 8-fps palette GIF, downscaled
   to a 256-pixel short side, and both (``reelproof.detector.aivideo``);
2. forensic features of 8 frames per clip, patches kept off an 8% border (logos), and the
   Laplacian residual of 8 32x32 patches per frame;
3. the traces CNN (3.6 k weights, from scratch, torch on one thread) on those residual patches,
   its patch-logit mean and spread joined to the forensic features (``traces.py``);
4. the temporal noise features of every clip's first 24 consecutive frames
   (``reelproof.detector.temporal``), appended to its frame rows;
5. the calibrated head (``fit_detector``, head ``fusion``: a logistic regression on the frame
   features and one on the temporal vector, logits added; source-/family-grouped calibration,
   thresholds from out-of-fold validation clips only);
6. face mode: MTCNN faces of every clip plus real face photos (``make data data-extra``), each
   real face also self-blended; a logistic face head with its own calibration and thresholds;
7. ``detector/reelproof/detector/weights/default.joblib`` and its cards.

The decoder-reconstruction corpus is not used: measured on the shared clips, adding it lowers
the leave-one-family-out AUC (see ``docs/benchmarks/detector.md``). About 10 minutes on 2
cores the first time (format controls and face detection), a minute after that.

Usage: python scripts/train_default_detector.py [--aivideo DIR] [--data data]
       [--work data/detector] [--out PATH] [--seed 0]
       python scripts/train_default_detector.py --card-only   (after reelproof eval detector:
       rewrites MODEL_CARD.md from the saved weights and the new benchmark, no retraining)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")  # the traces CNN trains on one torch thread

REPO = Path(__file__).resolve().parents[1]
TRAIN_FRAMES = 8
DEFAULT_OUT = REPO / "detector" / "reelproof" / "detector" / "weights" / "default.joblib"


def main() -> None:
    from reelproof.detector.backbones import create_backbone
    from reelproof.detector.protocol import concat_features
    from reelproof.detector.realgen import (
        SHIPPED_MARGIN,
        aivideo_features,
        require_aivideo,
        shipped_config,
    )
    from reelproof.detector.temporal_data import join_vectors, set_vectors, vectors_by_path
    from reelproof.detector.traces import PatchExtractor, TracesExtractor
    from reelproof.detector.traces_training import fit_traces, with_traces
    from reelproof.detector.training import fit_detector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aivideo", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--work", type=Path, default=REPO / "data" / "detector")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--card-only", action="store_true", help="rewrite MODEL_CARD.md, keep the weights"
    )
    args = parser.parse_args()
    if args.card_only:
        from reelproof.detector import load_detector

        saved = load_detector(args.out)
        write_model_card(args.out.with_name("MODEL_CARD.md"), saved.model_id, saved.card)
        print(f"wrote {args.out.with_name('MODEL_CARD.md')} for {saved.model_id}")
        return

    aivideo = require_aivideo(args.aivideo)
    config = shipped_config(args.seed)
    work = args.work / "aivideo"
    forensic = create_backbone("forensic")
    sets = aivideo_features(aivideo, work, forensic, TRAIN_FRAMES, SHIPPED_MARGIN, log=print)
    patches = aivideo_features(
        aivideo, work, PatchExtractor(), TRAIN_FRAMES, SHIPPED_MARGIN, log=print
    )
    all_patches = concat_features(list(patches.values()))
    print(f"training the traces CNN on the residual patches of {len(all_patches.videos)} clips")
    net = fit_traces(all_patches, seed=args.seed)
    frames = with_traces(concat_features(list(sets.values())), all_patches, net)
    by_set = vectors_by_path(sets, set_vectors(sets, work / "features", log=print))
    by_path = {path: vector for table in by_set.values() for path, vector in table.items()}
    feats = join_vectors({"all": frames}, {"all": by_path})["all"]
    extractor = TracesExtractor(net)
    card = {
        "intended_use": "fallback classifier behind C2PA provenance and the ReelProof watermark",
        "data": data_card(sets),
        "splits": "calibration folds grouped by family (generated) and source (camera); "
        "thresholds from out-of-fold clips; held-out figures in docs/benchmarks/detector.md",
        "seed": args.seed,
    }
    print(f"fitting the frame head on {feats.X.shape[0]} frames of {len(feats.videos)} clips")
    detector = fit_detector(feats, config, extractor, card=card, name="reelproof-default")
    detector.face_head = train_face_head(aivideo, args.data, work, args.seed)
    detector.card["face_head"] = detector.face_head.card
    detector.save(args.out)
    write_model_card(args.out.with_name("MODEL_CARD.md"), detector.model_id, detector.card)
    oof = detector.card["out_of_fold"]["video"]
    print(
        f"wrote {args.out} ({detector.model_id}, {args.out.stat().st_size / 1e6:.2f} MB): "
        f"out-of-fold video AUC {oof['auc']:.3f}, ECE {oof['ece']:.3f}; thresholds "
        f"{detector.thresholds[0]:.3f}/{detector.thresholds[1]:.3f}; face thresholds "
        f"{detector.face_head.thresholds[0]:.3f}/{detector.face_head.thresholds[1]:.3f}"
    )


def face_samples(aivideo: Path, data: Path, work: Path) -> Any:
    """Face samples of the shared clips, carphone and the face photos (cached as npz)."""
    from reelproof.detector.face_training import cached_face_samples

    return cached_face_samples(aivideo, data, work / "faces.npz")


def train_face_head(aivideo: Path, data: Path, work: Path, seed: int) -> Any:
    """The face head, trained on every face sample."""
    import numpy as np

    from reelproof.detector.face_training import SBI_FAMILY, fit_face_head

    samples = face_samples(aivideo, data, work)
    # Self-blended faces only as positives: held out, a head that also learned the shared
    # face-swap and talking-head families did worse on the family it had not seen (see the
    # benchmark's face-mode table), so those families stay for evaluation.
    samples = samples.take(np.isin(samples.family, ["real", SBI_FAMILY]))
    print(f"fitting the face head on {len(samples.y)} face samples (camera + self-blended)")
    return fit_face_head(samples, seed=seed)


def data_card(sets: dict[str, Any]) -> dict[str, Any]:
    """What the detector was trained on, for the card."""
    from reelproof.detector.face_training import FACE_PHOTOS

    orig = sets["orig"].videos
    families = sorted({v.family for v in orig if v.label == 1})
    sources = sorted({v.source for v in orig if v.label == 0})
    return {
        "generated": f"{sum(v.label for v in orig)} clips from {len(families)} generator "
        "families in the shared aivideo folder: " + ", ".join(families),
        "camera": f"{sum(v.label == 0 for v in orig)} clips from {len(sources)} sources: "
        + ", ".join(sources),
        "controls": "every clip also as an 8-fps palette GIF (256 colours, Floyd-Steinberg), "
        "downscaled to a 256-pixel short side, and both; labels kept",
        "faces": "MTCNN faces of the camera clips, carphone_pristine and the face photos "
        + ", ".join(FACE_PHOTOS)
        + ", each also self-blended (Shiohara & Yamasaki 2022) as the positives; the shared "
        "face-swap and talking-head clips are kept for evaluation",
        "not_seen": "the families and camera sources kept out of the shared folder, screen "
        "recordings, heavy filters, the project's own generator",
    }


def write_model_card(path: Path, model_id: str, card: dict[str, Any]) -> None:
    """A human-readable card next to the weights (the JSON card holds everything)."""
    from reelproof.detector.faces import DETECT_FRAMES
    from reelproof.detector.temporal import CONSECUTIVE_FRAMES, MAX_INTRO_FRAMES, MAX_SHORT_SIDE

    train, oof = card["training"], card["out_of_fold"]
    v = oof["video"]
    face = card["face_head"]
    lines = [
        "# Model card: ReelProof default detector",
        "",
        f"- Model: `{model_id}` (`default.joblib`; full card: `default.joblib.card.json`).",
        "- Built by `scripts/train_default_detector.py` (seeded) from the shared real-generator "
        "clips.",
        "- Intended use: a **fallback** signal behind C2PA provenance and the ReelProof "
        "watermark, for clips without credentials. Never proof on its own.",
        "- Screening first: too short (< 4 distinct frames or < 0.75 s), too small (< 64 px), "
        "blank, static (a still recorded as video), slideshow, or heavily compressed "
        "(< 0.01 bits per pixel) clips get `abstain` with a `code` and a reason, no score.",
        "- Screening also stops panned stills (`panned_still`): consecutive sampled frames "
        "that one global shift explains to within codec noise (phase correlation), i.e. a "
        "photo moved across the frame.",
        "- Full frame: 40 forensic features per frame (noise residuals, azimuthal spectrum, "
        "upsampling traces) on native-resolution 64x64 luma patches kept off an 8% border, "
        "plus the *traces* CNN's mean and spread of patch logits (3.6 k weights, three 3x3 "
        "convolutions on the 32x32 Laplacian residual of 8 of those patches scaled to unit "
        "RMS, trained from scratch on the same clips and controls, the patches also mirrored "
        "and transposed; numpy at scoring).",
        f"- Temporal: 4 noise features of the clip's first {CONSECUTIVE_FRAMES} consecutive "
        f"frames (luma at most {MAX_SHORT_SIDE} px on the short side, repeated frames left "
        "out): the change of the 3x3 "
        "high-pass detail between frames, the same in still areas, the frame difference "
        "there, and the change left after DIS optical-flow compensation. A camera draws new "
        "sensor noise in every frame; generators do not. A black or fade-in intro is "
        f"skipped first (up to {MAX_INTRO_FRAMES} frames); clips with fewer than three "
        "distinct frames left "
        "are scored on the frame features alone.",
        "- Head: two logistic regressions (C = "
        f"{card['head_params'].get('C', 'default')}), one on each frame's features and one on "
        "the clip's temporal vector, their logits added with equal weight; calibrated by one "
        "sigmoid on out-of-fold scores (folds grouped by family and source); mean-logit "
        "pooling per second and per clip with clip-level Platt scaling.",
        f"- Thresholds: real <= {card['thresholds']['low']:.3f} < inconclusive < "
        f"{card['thresholds']['high']:.3f} <= synthetic (the high one set for a "
        f"{card['config']['target_fpr']:.1%} false-positive rate on out-of-fold camera clips).",
        f"- Face mode: MTCNN (facenet-pytorch's bundled weights) on up to {DETECT_FRAMES} "
        "frames, IoU "
        "tracking, 20 contrasts between the face, its blend band and its surroundings per face; "
        f"logistic face head, thresholds {face_thr(card)}.",
        "",
        "## Data",
        "",
        f"- Generated: {card['data']['generated']}.",
        f"- Camera: {card['data']['camera']}.",
        f"- Format controls: {card['data']['controls']}.",
        f"- Faces: {card['data']['faces']} ({face['face_samples']} face samples, "
        f"{face['tracks']} tracks).",
        f"- Training set: {train['videos']} clips ({train['real_videos']} camera, "
        f"{train['fake_videos']} generated, controls included), {train['frames']} frames.",
        f"- **Not seen**: {card['data']['not_seen']}.",
        "",
        "## Metrics",
        "",
        f"- Out-of-fold inside the training data (calibration folds): video AUC {v['auc']:.3f}, "
        f"ECE {v['ece']:.3f}. These folds hold out families and sources but the thresholds "
        "are chosen on them, so they flatter.",
        "- **Held-out figures** (leave-one-family-out, camera sources held out, format-only "
        "baseline, face mode, speed): `docs/benchmarks/detector.md`. Read them before "
        "trusting a score: the targets are missed by a wide margin.",
        "",
        *benchmark_targets(),
        "## Known failure cases",
        "",
        "Example frames: `docs/benchmarks/detector_failures/` (written by "
        "`reelproof eval detector`).",
        "",
        "- Face swaps (DeepFaceLive), talking heads (SadTalker, AniPortrait) and Runway "
        "Gen-2 score *below* camera clips: held-out AUC under 0.5. A face swap keeps the "
        "camera's sensor noise outside the face, so the temporal features miss it too.",
        "- Face swaps and talking heads change only the face; the full-frame score misses them "
        "and the face head is weak (held-out AUC in the benchmark).",
        "- Camera clips that were resized, screen-recorded or heavily filtered can score high.",
        "- Model files are joblib pickles: load only files you trust.",
        "",
    ]
    path.write_text("\n".join(lines))


def benchmark_targets() -> list[str]:
    """The targets table of docs/benchmarks/detector.md, when it exists (run the benchmark,
    then this script again, to refresh it: both use the same cached features)."""
    bench = REPO / "docs" / "benchmarks" / "detector.md"
    if not bench.is_file():
        return []
    text = bench.read_text()
    start = text.find("## Targets")
    end = text.find("\n## ", start + 1)
    if start < 0:
        return []
    table = text[start:end].replace(
        "## Targets", "### Held-out targets (copied from the benchmark)"
    )
    return [table.strip(), ""]


def face_thr(card: dict[str, Any]) -> str:
    low, high = card["face_head"]["thresholds"]
    return f"real <= {low:.3f}, synthetic >= {high:.3f}"


if __name__ == "__main__":
    main()
