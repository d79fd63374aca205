"""reelproof.generator: watermarked and signed generation over diffusers video pipelines.

Importing this package is light; torch and diffusers load when a generator is built.

    from reelproof.generator import ResponsibleGenerator
    gen = ResponsibleGenerator.default()
    result = gen.generate("a red ball moving left on a black background", "out.mp4")
"""

from reelproof.generator.hook import UnmarkedOutputError, WatermarkingVideoProcessor
from reelproof.generator.pipelines import SUPPORTED_PIPELINES, PipelineKind
from reelproof.generator.responsible import (
    GenerationResult,
    ManifestSummary,
    ResponsibleGenerator,
    StageTimings,
)

__all__ = [
    "SUPPORTED_PIPELINES",
    "GenerationResult",
    "ManifestSummary",
    "PipelineKind",
    "ResponsibleGenerator",
    "StageTimings",
    "UnmarkedOutputError",
    "WatermarkingVideoProcessor",
]
