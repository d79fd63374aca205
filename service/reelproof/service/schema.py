"""The verdict document: ONE definition (the frozen dataclasses) and its two projections.

:class:`reelproof.service.verdict.Verdict` and the leaf results it holds are the only definition
of the verdict JSON. From their type hints this module generates the pydantic models (the API's
response model and OpenAPI document); from their values it produces the JSON (what the CLI
prints, the worker stores and the API returns, always validated by the generated model). A field
added to any of those dataclasses therefore appears in all three with no other edit.

The rules both projections apply, in one place:

- a :class:`~reelproof.service.signals.SignalResult` becomes ONE flat object: ``status``,
  ``reason``, ``seconds``, every field of its reading (``null`` when the signal gave none) and
  ``report_schema``, the reading's schema tag;
- every :class:`~reelproof.core.results.Result` carries its ``schema`` tag;
- fields named in :data:`PRIVATE_FIELDS` never appear (a server's file paths are nobody's
  business; ``filename`` names the clip);
- fractions become numbers, bytes hex, tuples arrays, enums their values, non-finite floats null.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from reelproof.core.results import JsonObject, JsonValue, Result, schema_tag, to_jsonable
from reelproof.service.signals import SignalResult

if TYPE_CHECKING:
    from reelproof.service.verdict import Verdict

PRIVATE_FIELDS = frozenset({"path"})
SIGNAL_MODEL_NAMES = {
    "provenance": "ProvenanceSignal",
    "watermark": "WatermarkSignal",
    "detector": "DetectorSignal",
}
"""OpenAPI names of the flat signal objects (kept from the first typed schema)."""


# -- values -> JSON ------------------------------------------------------------------------------
def document(verdict: Verdict) -> JsonObject:
    """The verdict's JSON, checked against the generated model (a mismatch is a bug here)."""
    body = _value(verdict)
    assert isinstance(body, dict)
    verdict_model().model_validate(body)
    return body


def _value(value: object) -> JsonValue:
    json_value: JsonValue = to_jsonable(value, on_dataclass=_dataclass_value)
    return json_value


def _dataclass_value(value: Any) -> JsonObject:
    out: JsonObject = {}
    if isinstance(value, Result):
        out["schema"] = schema_tag(value.schema)
    cls: type = type(value)
    hints = _hints(cls)
    for f in dataclasses.fields(value):
        if f.name in PRIVATE_FIELDS:
            continue
        field_value = getattr(value, f.name)
        if isinstance(field_value, SignalResult):
            (reading_type,) = typing.get_args(hints[f.name])
            out[f.name] = signal_json(field_value, reading_type)
        else:
            out[f.name] = _value(field_value)
    return out


def signal_json(signal: SignalResult[Any], reading_type: type) -> JsonObject:
    """One signal's flat JSON object, exactly as it appears in the verdict.

    Args:
        signal: the signal's outcome.
        reading_type: the dataclass of its reading: its fields are null when there is none.
    """
    if signal.reading is not None:
        out = _dataclass_value(signal.reading)
        out["report_schema"] = out.pop("schema", None)
    else:
        out = {
            f.name: None for f in dataclasses.fields(reading_type) if f.name not in PRIVATE_FIELDS
        }
        out["report_schema"] = None
    out["status"] = signal.status.value
    # One "reason" key: why the signal did not run, else the reading's own note (a classifier's
    # abstention, a watermark reading that could not be evaluated).
    own = out.get("reason")
    out["reason"] = signal.reason if signal.reason is not None else own
    out["seconds"] = _value(signal.seconds)
    return out


@functools.cache
def _hints(cls: type) -> dict[str, Annotation]:
    return typing.get_type_hints(cls)


# -- types -> pydantic models ------------------------------------------------------------------
Annotation = Any
"""A type expression handed to pydantic (a class, a generic alias, a union...)."""
FieldSpec = Any
"""One field for ``pydantic.create_model``: a ``(type, Field(...))`` pair."""


class _ModelBuilder:
    """Generates one pydantic model per dataclass, reusing it wherever the class appears."""

    def __init__(self) -> None:
        self.models: dict[type, type[BaseModel] | str] = {}
        self.signal_names: dict[type, str] = {}

    def model(self, cls: type, name: str | None = None) -> type[BaseModel] | str:
        known = self.models.get(cls)
        if known is not None:
            return known  # a model, or its name while it is being built (recursive types)
        name = name or cls.__name__
        self.models[cls] = name
        hints = _hints(cls)
        docs = _attribute_docs(cls)
        fields: dict[str, FieldSpec] = {}
        if issubclass(cls, Result):
            fields["schema_"] = (str, Field(alias="schema", description="schema tag"))
        for f in dataclasses.fields(cls):
            if f.name in PRIVATE_FIELDS:
                continue
            fields[f.name] = (self.annotation(hints[f.name]), Field(description=docs.get(f.name)))
        model: type[BaseModel] = create_model(
            name,
            __config__=ConfigDict(extra="forbid", populate_by_name=True),
            __doc__=_summary_line(cls),
            **fields,
        )
        self.models[cls] = model
        return model

    def signal_model(self, reading: type, name: str) -> type[BaseModel]:
        """The flat object of one signal: status, reason, seconds and the reading's fields."""
        from reelproof.service.signals import SignalStatus

        hints = _hints(reading)
        docs = _attribute_docs(reading)
        fields: dict[str, FieldSpec] = {
            f.name: (_nullable(self.annotation(hints[f.name])), Field(description=docs.get(f.name)))
            for f in dataclasses.fields(reading)
            if f.name not in PRIVATE_FIELDS
        }
        fields["report_schema"] = (str | None, Field(description="schema tag of the reading"))
        fields["status"] = (SignalStatus, Field(description="ok, skipped, unavailable or error"))
        fields["reason"] = (
            str | None,
            Field(description="why the signal did not run or failed, else the reading's own note"),
        )
        fields["seconds"] = (float, Field(description="time the signal took"))
        doc = f"{_summary_line(reading)} Every key is present; reading keys are null unless ok."
        return create_model(name, __config__=ConfigDict(extra="forbid"), __doc__=doc, **fields)

    def annotation(self, tp: Annotation) -> Annotation:
        if tp is JsonValue or tp is Any or tp is object:
            return tp
        if tp is Fraction:
            return float
        if tp is bytes:
            return str
        origin: object = typing.get_origin(tp)
        args: tuple[Annotation, ...] = typing.get_args(tp)
        if origin is SignalResult:
            raise TypeError("signal results are handled by signal_model")
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.model(tp)
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return list[self.annotation(args[0])]  # type: ignore[misc]
            return tuple[tuple(self.annotation(a) for a in args)]  # type: ignore[misc]
        if origin in (list, Sequence, set, frozenset):
            return list[self.annotation(args[0])]  # type: ignore[misc]
        if origin in (dict, Mapping):
            return dict[self.annotation(args[0]), self.annotation(args[1])]  # type: ignore[misc]
        if origin in (Union, types.UnionType):
            return Union[tuple(self.annotation(a) for a in args)]  # noqa: UP007
        if origin is Literal or isinstance(tp, type):
            return tp
        raise TypeError(f"the verdict schema cannot describe {tp!r}")

    def finish(self) -> None:
        """Resolve the names left by recursive types."""
        namespace = {m.__name__: m for m in self.models.values() if isinstance(m, type)}
        for model in namespace.values():
            model.model_rebuild(_types_namespace=namespace)


def _nullable(annotation: Annotation) -> Annotation:
    return Union[annotation, None]  # noqa: UP007  (works for forward-reference strings too)


@functools.cache
def verdict_model() -> type[BaseModel]:
    """The pydantic model of the verdict JSON, generated from :class:`Verdict` (cached)."""
    from reelproof.service.verdict import Verdict

    builder = _ModelBuilder()
    hints = _hints(Verdict)
    docs = _attribute_docs(Verdict)
    fields: dict[str, FieldSpec] = {
        "schema_": (str, Field(alias="schema", description="schema tag"))
    }
    for f in dataclasses.fields(Verdict):
        hint = hints[f.name]
        origin: object = typing.get_origin(hint)
        if origin is SignalResult:
            (reading,) = typing.get_args(hint)
            name = SIGNAL_MODEL_NAMES.get(f.name, f"{f.name.title()}Signal")
            annotation = builder.signal_model(reading, name)
        else:
            annotation = builder.annotation(hint)
        fields[f.name] = (annotation, Field(description=docs.get(f.name)))
    model: type[BaseModel] = create_model(
        "VerdictModel",
        __config__=ConfigDict(extra="forbid", populate_by_name=True),
        __doc__=_summary_line(Verdict),
        **fields,
    )
    builder.finish()
    model.model_rebuild()
    return model


# -- docstrings -> descriptions --------------------------------------------------------------
_ITEM = re.compile(r"^ {4}(\w+(?: / \w+)*): ?(.*)$")


def _attribute_docs(cls: type) -> dict[str, str]:
    """Field descriptions from the Google-style ``Attributes:`` sections of ``cls`` and its bases.

    ``a / b: text`` describes both ``a`` and ``b``; deeper-indented lines continue an item.
    """
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        lines = inspect.cleandoc(klass.__dict__.get("__doc__") or "").splitlines()
        start = next((i for i, line in enumerate(lines) if line == "Attributes:"), None)
        if start is None:
            continue
        current: list[str] = []
        for line in lines[start + 1 :]:
            if line and not line.startswith(" "):
                break  # the next section
            item = _ITEM.match(line)
            if item:
                current = item.group(1).split(" / ")
                for name in current:
                    out[name] = item.group(2).strip()
            elif line.strip():
                for name in current:
                    out[name] += " " + line.strip()
    return out


def _summary_line(cls: type) -> str:
    doc = cls.__dict__.get("__doc__") or cls.__name__
    return doc.strip().split("\n\n", 1)[0].replace("\n", " ")


__all__ = ["PRIVATE_FIELDS", "document", "signal_json", "verdict_model"]
