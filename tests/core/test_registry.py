"""Registry: register/create/list/describe and close-match suggestions for unknown names."""

from __future__ import annotations

import pytest

from reelproof.core import Registry, UnknownNameError


def _registry() -> Registry[str]:
    registry: Registry[str] = Registry("attack")

    @registry.register("jpeg_quality")
    def jpeg(quality: int = 75) -> str:
        """Recompress frames as JPEG."""
        return f"jpeg@{quality}"

    registry.add("gaussian_blur", lambda sigma=1.0: f"blur@{sigma}", doc="Blur the frames.")
    return registry


def test_create_passes_keyword_arguments() -> None:
    registry = _registry()
    assert registry.create("jpeg_quality", quality=50) == "jpeg@50"
    assert registry.create("gaussian_blur") == "blur@1.0"


def test_list_describe_contains_len() -> None:
    registry = _registry()
    assert registry.list() == ["gaussian_blur", "jpeg_quality"]
    assert registry.describe() == {
        "gaussian_blur": "Blur the frames.",
        "jpeg_quality": "Recompress frames as JPEG.",
    }
    assert "jpeg_quality" in registry and "nope" not in registry
    assert len(registry) == 2


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownNameError) as info:
        _registry().create("jpeg_qualty")
    assert "jpeg_quality" in str(info.value)
    assert isinstance(info.value, KeyError)  # dict-like callers can still catch KeyError


def test_unknown_name_without_close_match_lists_known_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        _registry().get("zzz")
    assert "gaussian_blur" in str(info.value)


def test_duplicate_names_are_an_error() -> None:
    registry = _registry()
    with pytest.raises(ValueError):
        registry.add("jpeg_quality", lambda: "x")
