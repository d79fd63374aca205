"""Module attributes imported on first use (PEP 562), for packages whose names pull in heavy
libraries: ``import`` of the package stays cheap, and each name costs its module's import only
when it is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_getattr(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``package.<names[name]>`` when ``name`` is asked for.

    Args:
        package: the package's ``__name__``.
        names: attribute name -> submodule that defines it.
    """

    def module_getattr(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return module_getattr
