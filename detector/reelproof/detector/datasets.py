"""Find labelled videos in the folder layouts ``reelproof detector train/eval --data`` accepts.

Layouts (first match wins):

- **FaceForensics++**: ``original_sequences/**/videos/*.mp4`` are real,
  ``manipulated_sequences/<Method>/**/*.mp4`` are fake of family ``<Method>``; the source id is
  the part of the file name before the first ``_`` (``000_003.mp4`` -> target video ``000``).
- **real/ + fake/**: ``real/**`` is real; ``fake/<family>/**`` (or files directly in ``fake/``,
  family ``fake``) are fake.
- **GenVideo-style**: ``real/`` (or ``0_real/``) is real and every other top-level folder is one
  generator family of fakes.

Elsewhere the source id is the file-name part before ``__`` (``bikes_s1__c0.mp4`` -> ``bikes_s1``),
else the whole stem: splits group by source so frames of one video never straddle train and test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelproof.core import ConfigError

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
REAL_DIRS = ("real", "0_real", "original")


@dataclass(frozen=True)
class LabeledVideo:
    """One training/evaluation video.

    Attributes:
        path: the file.
        label: 1 synthetic, 0 real.
        family: generator family ("real" for real videos).
        source: source id; videos sharing it always land in the same split.
    """

    path: Path
    label: int
    family: str
    source: str


def _videos(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
    )


def _source(path: Path) -> str:
    return path.stem.split("__")[0]


def discover(root: Path) -> tuple[str, list[LabeledVideo]]:
    """Labelled videos under ``root``.

    Returns:
        (layout name, videos sorted by path).

    Raises:
        ConfigError: ``root`` is missing or holds no real or no fake videos.
    """
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder", hint="pass the dataset root with --data")
    if (root / "original_sequences").is_dir() or (root / "manipulated_sequences").is_dir():
        layout, items = "faceforensics++", _faceforensics(root)
    else:
        real_dir = next((root / d for d in REAL_DIRS if (root / d).is_dir()), None)
        if real_dir is None:
            raise ConfigError(
                f"{root}: no real/ folder (nor FaceForensics++ layout)",
                hint="put real videos in DIR/real/ and fakes in DIR/fake/ or DIR/<generator>/",
            )
        items = [LabeledVideo(p, 0, "real", _source(p)) for p in _videos(real_dir)]
        layout = "real+fake" if (root / "fake").is_dir() else "per-generator"
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p != real_dir):
            if folder.name.startswith("."):
                continue
            if folder.name == "fake":
                for p in _videos(folder):
                    rel = p.relative_to(folder).parts
                    family = rel[0] if len(rel) > 1 else "fake"
                    items.append(LabeledVideo(p, 1, family, _source(p)))
            else:
                items += [LabeledVideo(p, 1, folder.name, _source(p)) for p in _videos(folder)]
    n_fake = sum(v.label for v in items)
    if n_fake == 0 or n_fake == len(items):
        raise ConfigError(
            f"{root}: found {len(items) - n_fake} real and {n_fake} fake videos ({layout} layout)",
            hint="training and evaluation need both real and fake videos",
        )
    return layout, sorted(items, key=lambda v: str(v.path))


def _faceforensics(root: Path) -> list[LabeledVideo]:
    def ff_source(p: Path) -> str:
        return p.stem.split("__")[0].split("_")[0]

    items = []
    if (root / "original_sequences").is_dir():
        items += [
            LabeledVideo(p, 0, "real", ff_source(p)) for p in _videos(root / "original_sequences")
        ]
    manipulated = root / "manipulated_sequences"
    if manipulated.is_dir():
        for method in sorted(p for p in manipulated.iterdir() if p.is_dir()):
            items += [LabeledVideo(p, 1, method.name, ff_source(p)) for p in _videos(method)]
    return items
