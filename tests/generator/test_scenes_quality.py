"""The procedural scenes and the colour-mask + centroid checker (numpy only, fast)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reelproof.generator import scenes
from reelproof.generator.quality import read_scene


def test_split_holds_out_every_value_but_trains_on_every_value() -> None:
    held, train = scenes.held_out_scenes(), scenes.train_scenes()
    assert len(held) + len(train) == len(scenes.all_scenes())
    assert not set(held) & set(train)
    assert 0.1 < len(held) / len(scenes.all_scenes()) < 0.2
    for attr in ("colour", "shape", "motion", "background"):
        assert {getattr(s, attr) for s in train} == {getattr(s, attr) for s in held}


def test_prompts_round_trip() -> None:
    for spec in scenes.all_scenes():
        assert scenes.parse_prompt(spec.prompt) == spec
    assert scenes.parse_prompt("a red dragon flying") is None


@pytest.mark.parametrize("size", [32, 128])
def test_checker_reads_every_rendered_scene_correctly(size: int) -> None:
    rng = np.random.default_rng(1)
    specs = scenes.all_scenes() if size == 32 else scenes.held_out_scenes()
    for spec in specs:
        clip = scenes.render_scene(spec, rng, 16, size)
        assert clip.shape == (16, size, size, 3) and clip.dtype == np.uint8
        assert read_scene(clip, spec).correct, spec


def test_checker_catches_each_wrong_attribute() -> None:
    rng = np.random.default_rng(2)
    spec = scenes.SceneSpec("red", "ball", "left", "black")
    clip = scenes.render_scene(spec, rng, 16, 64)
    for field, other in (("colour", "blue"), ("shape", "triangle"), ("motion", "right"),
                         ("background", "white")):  # fmt: skip
        wrong = dataclasses.replace(spec, **{field: other})
        reading = read_scene(clip, wrong)
        assert not reading.correct
        assert not getattr(reading, f"{field}_ok")
    still = np.repeat(clip[:1], 16, axis=0)  # no motion at all
    assert read_scene(still, spec).motion == "none"
    empty = np.zeros_like(clip)
    assert not read_scene(empty, spec).correct
