"""What a ReelProof manifest says: the manifest spec and its c2pa manifest definition."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelproof.core import __version__ as reelproof_version
from reelproof.core.errors import InputError
from reelproof.provenance.trust import REELPROOF_SOFT_BINDING_ALG

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
"""IPTC digital source type of fully generated media."""

GENERATOR_ASSERTION = "io.reelproof.generator"
"""Label of the ReelProof assertion naming the model that made the clip."""

SOFTWARE_AGENT = "ReelProof"

_WATERMARK_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class GeneratorInfo:
    """The model that generated a clip.

    Attributes:
        name: model name.
        version: model version.
        weights_digest: ``sha256:...`` digest of the weights that ran.
        prompt: the prompt; written to the manifest only when ``ManifestSpec.include_prompt``.
    """

    name: str
    version: str
    weights_digest: str
    prompt: str | None = None


@dataclass(frozen=True)
class ManifestSpec:
    """What to put in a new clip's manifest.

    Attributes:
        title: human title of the asset (usually the file name).
        generator: the model that made it (``None`` for non-generated content).
        watermark_id: 16 hex digits carried by the watermark, recorded as a soft binding.
        soft_binding_alg: algorithm id of that watermark.
        digital_source_type: IPTC digital source type of the ``c2pa.created`` action.
        include_prompt: opt in to recording the prompt (off by default: prompts can be private).
        input_ingredients: image-to-video inputs, recorded as ``inputTo`` ingredients.
        parent_ingredient: a signed clip the new one was made from (video-to-video), recorded as
            the ``parentOf`` ingredient with its manifest kept; the actions then open it and
            record the generation as an edit of it.
        software_agent: name and version recorded as claim generator and software agent.
    """

    title: str
    generator: GeneratorInfo | None = None
    watermark_id: str | None = None
    soft_binding_alg: str = REELPROOF_SOFT_BINDING_ALG
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA
    include_prompt: bool = False
    input_ingredients: tuple[Path, ...] | list[Path] = field(default_factory=list)
    software_agent: tuple[str, str] = (SOFTWARE_AGENT, reelproof_version)
    parent_ingredient: Path | None = None

    def __post_init__(self) -> None:
        if self.watermark_id is not None:
            wid = self.watermark_id.lower().removeprefix("0x")
            if not _WATERMARK_ID.match(wid):
                raise InputError(
                    f"watermark id {self.watermark_id!r} is not 16 hex digits",
                    hint="give the 64-bit watermark payload as hex, e.g. 0123456789abcdef",
                )
            object.__setattr__(self, "watermark_id", wid)
        object.__setattr__(
            self, "input_ingredients", tuple(Path(p) for p in self.input_ingredients)
        )


def claim_generator_info(spec_agent: tuple[str, str] | None = None) -> list[dict[str, str]]:
    name, version = spec_agent or (SOFTWARE_AGENT, reelproof_version)
    return [{"name": name, "version": version}]


def software_agent(spec_agent: tuple[str, str] | None = None) -> dict[str, str]:
    name, version = spec_agent or (SOFTWARE_AGENT, reelproof_version)
    return {"name": name, "version": version}


def creation_definition(
    spec: ManifestSpec,
    ingredient_labels: list[str],
    duration_ms: int | None,
    parent_label: str | None = None,
) -> dict[str, Any]:
    """The c2pa manifest definition (JSON-ready dict) of a newly generated clip.

    With a ``parent_label`` the clip was generated from a signed parent: C2PA then wants
    ``c2pa.opened`` (the parent) first, and the generation is a ``c2pa.edited`` action that keeps
    the digital source type; otherwise it is ``c2pa.created``.
    """
    generated: dict[str, Any] = {
        "action": "c2pa.created" if parent_label is None else "c2pa.edited",
        "digitalSourceType": spec.digital_source_type,
        "softwareAgent": software_agent(spec.software_agent),
    }
    if ingredient_labels:
        generated["parameters"] = {"ingredientIds": ingredient_labels}
    actions = [generated]
    if parent_label is not None:
        opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": [parent_label]}}
        actions.insert(0, opened)
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": actions}},
    ]
    if spec.generator is not None:
        gen: dict[str, Any] = {
            "name": spec.generator.name,
            "version": spec.generator.version,
            "weights_digest": spec.generator.weights_digest,
        }
        if spec.include_prompt and spec.generator.prompt is not None:
            gen["prompt"] = spec.generator.prompt
        assertions.append({"label": GENERATOR_ASSERTION, "data": gen})
    if spec.watermark_id is not None:
        # C2PA 2.1+: the watermark was inserted and is bound to this manifest by the soft
        # binding below (validators expect the action and the soft-binding assertion together).
        assertions[0]["data"]["actions"].append(
            {
                "action": "c2pa.watermarked.bound",
                "softwareAgent": software_agent(spec.software_agent),
                "description": f"Invisible watermark ({spec.soft_binding_alg}) carrying the "
                "soft-binding value of this manifest.",
            }
        )
        # c2pa-rs requires both ends of a timespan; without a known duration the scope stays
        # empty (the binding then covers the whole asset).
        scope = {"timespan": {"start": 0, "end": duration_ms}} if duration_ms else {}
        assertions.append(
            {
                "label": "c2pa.soft-binding",
                "data": {
                    "alg": spec.soft_binding_alg,
                    "blocks": [{"scope": scope, "value": spec.watermark_id}],
                },
            }
        )
    return {
        "claim_generator_info": claim_generator_info(spec.software_agent),
        "title": spec.title,
        "assertions": assertions,
    }


def edit_definition(title: str, parent_label: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest definition of an edit: ``c2pa.opened`` the parent, then ``actions``."""
    opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": [parent_label]}}
    return {
        "claim_generator_info": claim_generator_info(),
        "title": title,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [opened, *actions]}}],
    }
