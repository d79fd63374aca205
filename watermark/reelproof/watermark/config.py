"""Settings of the rp-ss watermark (one frozen dataclass, defaults are the benchmarked ones)."""

from __future__ import annotations

from dataclasses import dataclass

from reelproof.core.errors import ConfigError

MIN_SIDE = 64
"""Smallest frame side rp-ss marks and reads: a quarter tile, enough pilot evidence over a few
frames (frames smaller than the tile carry a cropped tile; see ``docs/benchmarks/watermark.md``)."""


@dataclass(frozen=True)
class RpSsConfig:
    """Settings of rp-ss.

    Attributes:
        tile: tile size in pixels of the marked picture (folded into tile/2 cells per side).
        large_tile: tile of frames whose short side is at least ``large_tile_from`` (0: always
            ``tile``). Its frequencies are 1.5x lower: they survive being shrunk by a re-poster
            and then compressed, where 720p/1080p clips with the small tile lost the mark.
        large_tile_from: short side (pixels) from which frames carry ``large_tile``.
        r_lo, r_hi: band of tile frequencies used (cycles per tile).
        pilot_weight: amplitude of pilot bins relative to payload bins.
        strength: multiplier of the embedding amplitude (1.0 = default quality).
        base_rms: pattern RMS in 8-bit levels where the texture mask is 1. It was 2.4, which
            left smooth clips (bikes: 45-48 dB) far above the 42 dB floor and their marks weaker
            than the quality budget allows; 3.0 lifts those by 1.9 dB and changes nothing on
            busy clips, which sit at the floor (measured on the benchmark's re-posting clips).
        mask_floor, mask_cap: limits of the texture mask (flat areas get ``mask_floor``).
        act_ref: block activity (mean |gradient| at quarter resolution) where the mask is 1.
        min_psnr: per-frame luma PSNR floor (dB); the amplitude is lowered to respect it.
        scales: clip/original scale factors always tried as fixed hypotheses, beside the
            geometries the synchronisation measures (which covers every other scale).
        angles: extra fixed rotation hypotheses in degrees (at scale 1); none by default, as the
            synchronisation measures the rotation.
        search_flip: also test horizontally mirrored clips (cheap: a re-indexing of the spectrum).
        sync: estimate scale, rotation and aspect from the clip (key-independent, see ``sync``).
        sync_candidates: geometries from the synchronisation carried into the keyed test; the
            p-value is corrected for all of them.
        coarse_candidates: geometries of upscaled re-posts (scale 1.6x of the small tile and
            more) from the synchronisation's second search at half the working resolution
            (see ``sync.synchronise``); counted in the p-value like ``sync_candidates``.
        min_scale, max_scale: range of clip/original scale the synchronisation searches.
        max_angle: rotation range (+- degrees) the synchronisation searches.
        aspects: x/y squeeze factors the coarse search starts from (16:9 shown as 4:3 is 0.75);
            the refinement reaches about +-10 % around each.
        p_threshold: ``detected`` when the corrected p-value is below it.
        max_frames: default frame budget of detection.
        futility_beta: error bound of the sequential early stop for unmarked clips: a mark whose
            evidence grows at least as fast as the weakest one the budget can reveal is given up
            with probability at most this (see ``sequential``); 0 disables the early stop.
    """

    tile: int = 128
    large_tile: int = 192
    large_tile_from: int = 480
    r_lo: float = 3.0
    r_hi: float = 18.0
    pilot_weight: float = 1.0
    strength: float = 1.0
    base_rms: float = 3.0
    mask_floor: float = 0.25
    mask_cap: float = 1.8
    act_ref: float = 10.0
    min_psnr: float = 42.0
    scales: tuple[float, ...] = (1.0,)
    angles: tuple[float, ...] = ()
    search_flip: bool = True
    sync: bool = True
    sync_candidates: int = 2
    coarse_candidates: int = 1
    min_scale: float = 0.4
    max_scale: float = 2.5
    max_angle: float = 5.0
    aspects: tuple[float, ...] = (0.75, 1.0, 4.0 / 3.0)
    p_threshold: float = 1e-6
    max_frames: int = 256
    futility_beta: float = 1e-3

    def __post_init__(self) -> None:
        if self.tile % 32 != 0 or self.tile < 64:
            raise ConfigError(f"tile must be a multiple of 32 and >= 64, got {self.tile}")
        if self.large_tile and (self.large_tile % 32 != 0 or self.large_tile <= self.tile):
            raise ConfigError("large_tile must be 0 or a multiple of 32 above tile")
        if not 0.0 < self.strength <= 4.0:
            raise ConfigError(f"strength must be in (0, 4], got {self.strength}")
        if not self.scales or any(s <= 0.0 for s in self.scales):
            raise ConfigError("scales must be positive")
        if any(abs(a) > 45.0 for a in self.angles):
            raise ConfigError("angles must be within +-45 degrees")
        if not 0.0 < self.p_threshold < 1.0:
            raise ConfigError("p_threshold must be in (0, 1)")
        if self.max_frames < 1:
            raise ConfigError("max_frames must be >= 1")
        if not 0.1 <= self.min_scale < 1.0 < self.max_scale <= 4.0:
            raise ConfigError(
                "the sync scale range must satisfy 0.1 <= min_scale < 1 < max_scale <= 4"
            )
        if not 0.0 <= self.max_angle <= 20.0:
            raise ConfigError("max_angle must be within [0, 20] degrees")
        if not self.aspects or any(not 0.5 <= a <= 2.0 for a in self.aspects):
            raise ConfigError("aspects must be within [0.5, 2]")
        if not 1 <= self.sync_candidates <= 8:
            raise ConfigError("sync_candidates must be within [1, 8]")
        if not 0 <= self.coarse_candidates <= 8:
            raise ConfigError("coarse_candidates must be within [0, 8]")
        if not 0.0 <= self.futility_beta < 0.5:
            raise ConfigError("futility_beta must be in [0, 0.5)")

    def tiles(self) -> tuple[int, ...]:
        """Every tile size a marked clip may carry (the detector tries each)."""
        return (self.tile, self.large_tile) if self.large_tile else (self.tile,)

    def tile_for(self, height: int, width: int) -> int:
        """The tile frames of this size are marked with."""
        large = self.large_tile and min(height, width) >= self.large_tile_from
        return self.large_tile if large else self.tile

    def hypotheses(self) -> tuple[tuple[float, float], ...]:
        """Fixed (scale, angle in degrees) pairs folded by the detector."""
        extra = tuple((1.0, float(a)) for a in self.angles if a != 0.0)
        return tuple((float(s), 0.0) for s in self.scales) + extra
