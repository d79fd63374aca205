"""The HTML report: self-contained, escaped, and it shows every panel."""

from __future__ import annotations

from pathlib import Path

from reelproof.service.pipeline import VerifyOptions, verify_clip
from reelproof.service.report import per_second_scores, render_html, score_plot_svg


def test_report_escapes_hostile_names_and_shows_panels(bikes_mp4: Path, tmp_path: Path) -> None:
    hostile = tmp_path / "<img src=x onerror=alert(1)>.mp4"
    hostile.write_bytes(bikes_mp4.read_bytes())
    body = verify_clip(hostile, VerifyOptions(detector=False, watermark_max_frames=16)).to_dict()
    page = render_html(body, [])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    for panel in (
        'id="credentials"',
        'id="watermark"',
        'id="detector"',
        "Raw codes",
        body["sha256"],
    ):
        assert panel in page
    assert 'data-verdict="' + body["verdict"] + '"' in page


def test_score_plot_from_segments() -> None:
    detector = {
        "segments": [
            {"start": 0.0, "end": 0.5, "p_synthetic": 0.2},
            {"start": 0.5, "end": 1.0, "p_synthetic": 0.4},
            {"start": 1.2, "end": 1.8, "p_synthetic": 0.9},
            {"start": "bad", "p_synthetic": 0.1},
        ]
    }
    points = per_second_scores(detector)
    assert points == [(0.0, 0.30000000000000004), (1.0, 0.9)]
    svg = score_plot_svg(points, duration=2.0)
    assert svg.startswith("<svg") and svg.count("<circle") == 2
    assert "no per-second scores" in score_plot_svg([], duration=3.0)
