"""Wrapper overhead per diffusers family, on tiny random builds of each family (CPU).

For one pipeline class per family (``reelproof.eval.tiny_pipelines``), the same clip is made by
the bare pipeline and through ``ResponsibleGenerator.generate``; the overhead is the difference
of the medians. The tiny models denoise in milliseconds, so the overhead is reported in seconds
and per frame rather than as a share of generation: it depends on the clip's frames and pixels
(mark, convert, encode, sign, store), not on the model, so the same seconds apply to a real
checkpoint of the family, whose generation takes minutes.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from reelproof.core import Result

if TYPE_CHECKING:
    from reelproof.eval.tiny_pipelines.media import InputMedia
    from reelproof.generator.seams import ManifestStore, Signer, Watermarker
    from reelproof.provenance import TrustConfig


@dataclass(frozen=True)
class FamilyOverhead(Result):
    """The responsible wrapper's cost on one family's pipeline (medians over the runs).

    Attributes:
        family: Model family.
        pipeline: The pipeline class measured.
        frames, height, width: Geometry of the clip made.
        bare_s: The bare pipeline call (``output_type="np"``).
        pipeline_s: The same call inside ``generate`` (hook armed, marking included).
        hook_s: What the hook adds inside the call: 8-bit conversion both ways and marking.
        watermark_s: The marking alone (part of ``hook_s``).
        encode_s, sign_s, store_s: The steps after the pipeline.
        total_s: ``generate`` end to end.
        marked_and_trusted: Every run's file verified as trusted and read back its exact id.
    """

    schema: ClassVar[str] = "generator_family_overhead"

    family: str
    pipeline: str
    frames: int
    height: int
    width: int
    bare_s: float
    pipeline_s: float
    hook_s: float
    watermark_s: float
    encode_s: float
    sign_s: float
    store_s: float
    total_s: float
    marked_and_trusted: bool

    @property
    def overhead_s(self) -> float:
        """Seconds the responsible steps take: the hook, encoding, signing and storing."""
        return self.hook_s + self.encode_s + self.sign_s + self.store_s

    @property
    def difference_s(self) -> float:
        """``generate`` minus the bare call: the overhead plus timing noise of two runs."""
        return self.total_s - self.bare_s

    @property
    def overhead_ms_per_frame(self) -> float:
        """The overhead per generated frame, in milliseconds."""
        return 1000.0 * self.overhead_s / max(1, self.frames)


def representatives() -> dict[str, str]:
    """One pipeline class per family: the first listed (family -> class name)."""
    from reelproof.eval.tiny_pipelines import CASES

    chosen: dict[str, str] = {}
    for name, case in CASES.items():
        chosen.setdefault(case.family, name)
    return chosen


def measure_family(
    class_name: str,
    media: InputMedia,
    parts: tuple[Watermarker, Signer, ManifestStore],
    trust: TrustConfig,
    folder: Path,
    size: int = 128,
    runs: int = 3,
) -> FamilyOverhead:
    """Time the bare pipeline and the wrapped one on two identical tiny builds (same seed),
    after two warm-ups each, alternating runs so that load on a shared machine hits both."""
    import torch

    from reelproof.core.io import read_clip
    from reelproof.eval.tiny_pipelines import CASES, calm_decoder
    from reelproof.eval.tiny_pipelines.media import PROMPT, generate_arguments, pipeline_arguments
    from reelproof.generator import GenerationResult, ResponsibleGenerator
    from reelproof.generator.pipelines import profile
    from reelproof.provenance import verify

    case = CASES[class_name]
    bare_pipe = calm_decoder(case.build())
    bare_pipe.set_progress_bar_config(disable=True)
    spec = profile(type(bare_pipe))
    bare_call = pipeline_arguments(spec, case, media, size, "np")
    watermarker = parts[0]
    gen = ResponsibleGenerator.from_pipeline(calm_decoder(case.build()), *parts)
    prompt = PROMPT if spec.takes_prompt else None
    args = generate_arguments(spec, case, media, size)

    def bare() -> float:
        start = time.perf_counter()
        bare_pipe(**bare_call, generator=torch.Generator().manual_seed(1))
        return time.perf_counter() - start

    def wrapped(tag: str) -> GenerationResult:
        return gen.generate(prompt, folder / f"{class_name}.{tag}.mp4", **args)

    for warm in range(2):  # first calls pay for lazy initialisation and kernel selection
        bare()
        wrapped(f"warm{warm}")
    bare_seconds: list[float] = []
    hook_seconds: list[float] = []
    results: list[GenerationResult] = []
    for run in range(runs):
        bare_seconds.append(bare())
        results.append(wrapped(str(run)))
        hook_seconds.append(gen.guard.proxy.seconds)
    ok = all(
        verify(r.path, trust).state == "trusted"
        and watermarker.detect(read_clip(r.path).frames).payload == r.watermark_id
        for r in results
    )
    t = [r.timings for r in results]
    med = statistics.median
    return FamilyOverhead(
        family=case.family,
        pipeline=class_name,
        frames=results[0].num_frames,
        height=results[0].height,
        width=results[0].width,
        bare_s=med(bare_seconds),
        pipeline_s=med([x.generate_s + x.watermark_s for x in t]),
        hook_s=med(hook_seconds),
        watermark_s=med([x.watermark_s for x in t]),
        encode_s=med([x.encode_s for x in t]),
        sign_s=med([x.sign_s for x in t]),
        store_s=med([x.store_s for x in t]),
        total_s=med([x.total_s for x in t]),
        marked_and_trusted=ok,
    )


def family_rows_markdown(rows: tuple[FamilyOverhead, ...]) -> list[str]:
    """The per-family overhead table."""
    lines = [
        "| family | pipeline measured | clip (frames x w x h) | bare pipeline s | in generate s "
        "| hook s (of which mark) | encode s | sign s | store s | overhead s | overhead ms/frame "
        "| generate - bare s | trusted + exact id |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.family} | `{r.pipeline}` | {r.frames}x{r.width}x{r.height} | {r.bare_s:.3f} "
            f"| {r.pipeline_s:.3f} | {r.hook_s:.3f} ({r.watermark_s:.3f}) | {r.encode_s:.3f} "
            f"| {r.sign_s:.3f} | {r.store_s:.3f} | {r.overhead_s:.3f} "
            f"| {r.overhead_ms_per_frame:.1f} | {r.difference_s:.3f} | {r.marked_and_trusted} |"
        )
    return lines
