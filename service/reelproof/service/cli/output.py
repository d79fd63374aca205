"""Output helpers shared by the CLI commands.

Strings that come from files (certificate names, titles, claim generators, assertion values,
file names) are attacker-controlled: anyone can mint a certificate named ``News Desk [/]`` or put
an ESC sequence in a title. The terminal gets them through :func:`plain` (a Rich ``Text``, never
parsed as markup) or :func:`clean` (plain ``str``), with control and bidirectional-override
characters replaced, so they can neither break the output nor rewrite the screen.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping

from rich.text import Text

# C0 and C1 controls (tab and newline kept), DEL, and the bidi embeddings/overrides/isolates
# that can make a line read differently from its bytes.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """``value`` as a string with unsafe characters replaced by U+FFFD."""
    return _UNSAFE.sub("\ufffd", str(value))


def plain(value: object, style: str = "") -> Text:
    """``value`` as Rich text that is printed as is (no markup, no links, no escapes)."""
    return Text(clean(value), style=style)


def print_json(body: Mapping[str, object]) -> None:
    """Print exactly one JSON object on stdout (machine-readable contract of ``--json``).

    JSON escapes control characters itself, so file-derived strings are safe here as they are.
    """
    sys.stdout.write(json.dumps(body, indent=2) + "\n")
    sys.stdout.flush()
