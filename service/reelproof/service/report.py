"""The newsroom report: one self-contained HTML file (inline CSS, inline SVG, base64 JPEGs).

It renders the verdict JSON (``Verdict.to_dict()``), so the CLI and the API produce the same page
from the same data. Nothing in it loads from the network.
"""

from __future__ import annotations

import base64
import importlib.resources
import json
import math
from collections.abc import Mapping, Sequence

import jinja2
from markupsafe import Markup

from reelproof.core.results import JsonValue
from reelproof.service.thumbnails import Thumbnail
from reelproof.service.verdict import PLAIN_WORDS, VerdictLabel

JsonMap = Mapping[str, JsonValue]

TONE = {
    "credentials_trusted": "good",
    "ai_generated_marked": "ai",
    "likely_synthetic": "warn",
    "tampered": "bad",
    "inconclusive": "neutral",
    "not_applicable": "neutral",
}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    env.filters["fmt_p"] = _fmt_p
    env.filters["fmt_s"] = lambda v: "—" if v is None else f"{float(v):.3f} s"
    env.filters["short_uri"] = lambda v: str(v).rstrip("/").rsplit("/", 1)[-1] if v else "—"
    env.filters["pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)
    env.filters["hex_b64"] = _hex_to_base64
    return env


def _hex_to_base64(value: object) -> str:
    """A hex string from the JSON (bytes, e.g. a face thumbnail) as base64 for a data: URI."""
    try:
        return base64.b64encode(bytes.fromhex(str(value))).decode("ascii")
    except ValueError:
        return ""


def _fmt_p(value: float | None) -> str:
    if value is None:
        return "—"
    v = float(value)
    if v == 0.0:
        return "0"
    return f"{v:.2e}" if v < 1e-3 else f"{v:.3f}"


def per_second_scores(detector: JsonMap) -> list[tuple[float, float]]:
    """(second, mean p_synthetic) pairs from the detector's segments, in time order."""
    bins: dict[int, list[float]] = {}
    segments = detector.get("segments")
    for seg in segments if isinstance(segments, list) else []:
        if not isinstance(seg, Mapping):
            continue
        t = _first(seg, ("t", "time", "start_s", "start", "timestamp"))
        p = _first(seg, ("p_synthetic", "p", "score"))
        if t is None or p is None:
            continue
        bins.setdefault(math.floor(float(t)), []).append(float(p))
    return [(float(sec), sum(vals) / len(vals)) for sec, vals in sorted(bins.items())]


def _first(body: JsonMap, keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, int | float) and math.isfinite(float(value)):
            return float(value)
    return None


def score_plot_svg(
    points: list[tuple[float, float]], duration: float, width: int = 640, height: int = 170
) -> str:
    """An inline SVG line plot of per-second synthetic scores (0..1) with a 0.5 guide line."""
    left, right, top, bottom = 40, 12, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(duration, points[-1][0] + 1.0 if points else 1.0, 1.0)

    def x(t: float) -> float:
        return left + plot_w * (t / span)

    def y(p: float) -> float:
        return top + plot_h * (1.0 - min(1.0, max(0.0, p)))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="Classifier score per second">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#f7f7f9" '
        'stroke="#ccc"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{tick:.1f}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0.5):.1f}" y2="{y(0.5):.1f}" '
        'stroke="#999" stroke-dasharray="4 3"/>'
    )
    step = max(1, math.ceil(span / 10))
    for sec in range(0, math.floor(span) + 1, step):
        parts.append(
            f'<text x="{x(sec):.1f}" y="{height - 10}" font-size="11" text-anchor="middle" '
            f'fill="#555">{sec}s</text>'
        )
    if points:
        centre = [(x(t + 0.5), y(p)) for t, p in points]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in centre)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#7b3fe4" stroke-width="2"/>')
        for (px, py), (_, p) in zip(centre, points, strict=True):
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="#7b3fe4">'
                f"<title>{p:.2f}</title></circle>"
            )
    else:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" font-size="13" '
            'text-anchor="middle" fill="#777">no per-second scores</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _section(body: JsonMap, key: str) -> JsonMap:
    value = body.get(key)
    return value if isinstance(value, Mapping) else {}


def render_html(verdict: JsonMap, thumbnails: Sequence[Thumbnail] = ()) -> str:
    """Render the report page.

    Args:
        verdict: ``Verdict.to_dict()`` (or the same JSON read back from the API).
        thumbnails: frames from ``make_thumbnails``.

    Returns:
        One self-contained HTML document.
    """
    label = str(verdict.get("verdict", "inconclusive"))
    try:
        headline = PLAIN_WORDS[VerdictLabel(label)]
    except ValueError:
        headline = label
    detector = _section(verdict, "detector")
    media = _section(verdict, "media")
    points = per_second_scores(detector)
    template = (
        importlib.resources.files("reelproof.service")
        .joinpath("templates/report.html.j2")
        .read_text(encoding="utf-8")
    )
    watermark = _section(verdict, "watermark")
    recovered = _section(watermark, "recovered_manifest")
    return (
        _env()
        .from_string(template)
        .render(
            v=verdict,
            headline=headline,
            tone=TONE.get(label, "neutral"),
            prov=_section(verdict, "provenance"),
            wm=watermark,
            recovered=recovered,
            det=detector,
            media=media,
            plot=Markup(score_plot_svg(points, _number(media.get("duration")))),
            thumbnails=thumbnails,
            raw_json=verdict,
        )
    )


def _number(value: JsonValue) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
