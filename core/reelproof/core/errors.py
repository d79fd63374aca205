"""The ReelProof error tree.

Exceptions mean "could not evaluate" (corrupt file, limit exceeded, bad configuration). Absence of
a signal (no manifest, no watermark) is a result, never an exception. Every message says what the
user can do about it.
"""

from __future__ import annotations


class ReelProofError(Exception):
    """Base class of every error ReelProof raises on purpose.

    Attributes:
        hint: one sentence telling the user what to do next.
        exit_code: the CLI exit status this error maps to (3: bad input).
    """

    exit_code: int = 3

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(ReelProofError):
    """The input the user gave cannot be used (bad file, bad argument value)."""


class MediaDecodeError(InputError):
    """A media file is corrupt, truncated, not a video, or cannot be decoded."""


class LimitExceededError(InputError):
    """A media file exceeds a configured limit; raised before any decoding."""


class UnsupportedMediaError(InputError):
    """A container, codec, protocol or format is not on the allow-list."""


class ConfigError(ReelProofError):
    """A configuration, key or model folder is missing or malformed."""


class KeyMaterialError(ConfigError):
    """A key or certificate is missing, malformed or not allowed here."""


class UnknownNameError(ConfigError, KeyError):
    """A registry was asked for a name it does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return ReelProofError.__str__(self)
