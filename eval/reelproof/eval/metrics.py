"""Watermark metrics: fidelity (PSNR, SSIM), payload recovery, detection rates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter
from scipy.stats import binom

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)


def luma(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """BT.601 luma of (..., 3) uint8 RGB; float64 in [0, 255]."""
    result: npt.NDArray[np.float64] = frames.astype(np.float64) @ _LUMA
    return result


def psnr(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """Luma PSNR in dB between two (T, H, W, 3) uint8 clips (inf when identical)."""
    mse = float(np.mean((luma(reference) - luma(test)) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(255.0**2 / mse)


def ssim(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """Mean luma SSIM (Gaussian window, sigma 1.5, as in Wang et al. 2004) over frames."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for ref_frame, test_frame in zip(reference, test, strict=True):
        x, y = luma(ref_frame), luma(test_frame)
        mu_x, mu_y = gaussian_filter(x, 1.5), gaussian_filter(y, 1.5)
        sxx = gaussian_filter(x * x, 1.5) - mu_x**2
        syy = gaussian_filter(y * y, 1.5) - mu_y**2
        sxy = gaussian_filter(x * y, 1.5) - mu_x * mu_y
        num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
        den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
        values.append(float(np.mean(num / den)))
    return float(np.mean(values))


def hex_bits(value: str | None, n_bits: int = 64) -> npt.NDArray[np.uint8] | None:
    """Bits of a hex payload (None stays None)."""
    if value is None:
        return None
    number = int(value, 16)
    return np.array([(number >> (n_bits - 1 - i)) & 1 for i in range(n_bits)], dtype=np.uint8)


def bit_accuracy(decoded: str | None, truth: str, n_bits: int = 64) -> float:
    """Fraction of payload bits right; an unreadable payload counts as 0.5 (chance)."""
    got = hex_bits(decoded, n_bits)
    want = hex_bits(truth, n_bits)
    assert want is not None
    return 0.5 if got is None else float(np.mean(got == want))


def exact_match(decoded: str | None, truth: str) -> bool:
    """True when the decoded payload equals the truth exactly."""
    return decoded is not None and decoded.lower() == truth.lower()


def matching_bits_threshold(n_bits: int = 64, fpr: float = 1e-6) -> int:
    """Smallest k with P(Binomial(n, 1/2) >= k) < fpr: bits that must match a known id.

    This is how key-less bit watermarks are usually "detected"; it assumes unbiased bits on
    unmarked content, which the benchmark's false-positive run checks.
    """
    for k in range(n_bits + 1):
        if float(binom.sf(k - 1, n_bits, 0.5)) < fpr:
            return k
    return n_bits + 1


def rate(flags: Sequence[bool]) -> float:
    """Fraction of True (nan for an empty list)."""
    return float(np.mean(flags)) if len(flags) else math.nan


def clopper_pearson_upper(successes: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound of a rate (e.g. the FPR after 0 of n false alarms)."""
    if trials == 0:
        return 1.0
    if successes >= trials:
        return 1.0
    from scipy.stats import beta

    return float(beta.ppf(confidence, successes + 1, trials - successes))
