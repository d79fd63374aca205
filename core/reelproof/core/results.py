"""Base for the frozen result dataclasses that cross package borders.

Results serialise to JSON-ready dicts that carry a schema version, so stored reports stay
readable when fields are added later.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

SCHEMA_VERSION = "1"


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, enums, numpy scalars/arrays, fractions and bytes to JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
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
        return {"schema": f"reelproof.{self.schema}/{SCHEMA_VERSION}", **body}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)
