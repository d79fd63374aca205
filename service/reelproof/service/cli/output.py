"""Output helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping


def print_json(body: Mapping[str, object]) -> None:
    """Print exactly one JSON object on stdout (machine-readable contract of ``--json``)."""
    sys.stdout.write(json.dumps(body, indent=2) + "\n")
    sys.stdout.flush()
