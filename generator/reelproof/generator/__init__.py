"""reelproof.generator: watermarked and signed generation over diffusers video pipelines.

Importing this package is light; torch and diffusers load when a generator is built.

    from reelproof.generator import ResponsibleGenerator
    gen = ResponsibleGenerator.default()
    result = gen.generate("a red ball moving left on a black background", "out.mp4")

Any diffusers pipeline that decodes through ``video_processor.postprocess_video`` can be wrapped
(:func:`ResponsibleGenerator.from_pipeline`, :func:`ResponsibleGenerator.from_pretrained`).
"""

from reelproof.generator.callbacks import StepView
from reelproof.generator.discovery import discover_video_pipelines
from reelproof.generator.hook import UnmarkedOutputError, WatermarkingVideoProcessor
from reelproof.generator.pipelines import PipelineProfile, UnmarkablePipelineError
from reelproof.generator.responsible import ResponsibleGenerator
from reelproof.generator.results import GenerationResult, ManifestSummary, StageTimings

__all__ = [
    "GenerationResult",
    "ManifestSummary",
    "PipelineProfile",
    "ResponsibleGenerator",
    "StageTimings",
    "StepView",
    "UnmarkablePipelineError",
    "UnmarkedOutputError",
    "WatermarkingVideoProcessor",
    "discover_video_pipelines",
]
