"""A small named registry, in the spirit of timm's ``create_model``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Generic, TypeVar

from reelproof.core.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories; ``create(name, **kwargs)`` builds an instance.

    Args:
        kind: what the registry holds, used in error messages ("watermarker", "attack").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}
        self._docs: dict[str, str] = {}

    def register(
        self, name: str, doc: str | None = None
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering ``factory`` under ``name``; a duplicate name is an error."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(name, factory, doc)
            return factory

        return decorate

    def add(self, name: str, factory: Callable[..., T], doc: str | None = None) -> None:
        """Register ``factory`` under ``name``."""
        if name in self._factories:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._factories[name] = factory
        first_line = (doc or factory.__doc__ or "").strip().splitlines()
        self._docs[name] = first_line[0] if first_line else ""

    def create(self, name: str, /, **kwargs: object) -> T:
        """Build the entry called ``name``; unknown names list the closest matches."""
        return self.get(name)(**kwargs)

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name``."""
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}", hint=self._suggestion(name)
            ) from None

    def list(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._factories)

    def describe(self) -> dict[str, str]:
        """Name -> one-line description."""
        return {name: self._docs[name] for name in self.list()}

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __len__(self) -> int:
        return len(self._factories)

    def _suggestion(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._factories, n=3, cutoff=0.5)
        if close:
            return "did you mean " + " or ".join(repr(c) for c in close) + "?"
        return "known: " + ", ".join(self.list()) if self._factories else "none are registered"
