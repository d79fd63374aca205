"""Base for the frozen result dataclasses that cross package borders.

Results serialise to JSON-ready dicts that carry a schema version, so stored reports stay
readable when fields are added later.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
from typing_extensions import TypeAliasType

SCHEMA_VERSION = "1"

JsonValue = TypeAliasType(
    "JsonValue",
    "str | int | float | bool | None | Sequence[JsonValue] | Mapping[str, JsonValue]",
)
"""A JSON value, for the few places whose keys are open (evidence details, problem bodies)."""
JsonObject = dict[str, JsonValue]


def schema_tag(name: str) -> str:
    """The schema tag a result called ``name`` carries in JSON (``reelproof.NAME/VERSION``)."""
    return f"reelproof.{name}/{SCHEMA_VERSION}"


def to_jsonable(value: Any, on_dataclass: Callable[[Any], Any] | None = None) -> Any:
    """Convert dataclasses, enums, numpy scalars/arrays, fractions and bytes to JSON types.

    Args:
        value: what to convert.
        on_dataclass: converts a dataclass instance (default: a dict of all its fields); it is
            used at every depth, so a caller can change how results nest (the verdict's schema).
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if on_dataclass is not None:
            return on_dataclass(value)
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, on_dataclass)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, on_dataclass) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, on_dataclass) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf; "unknown" is the honest reading
    return value


class Result:
    """Mixin for frozen result dataclasses: ``to_dict()`` and ``to_json()`` with a schema tag."""

    schema: ClassVar[str] = "result"

    def to_dict(self) -> dict[str, Any]:
        body = to_jsonable(self)
        assert isinstance(body, dict)
        return {"schema": schema_tag(self.schema), **body}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)
