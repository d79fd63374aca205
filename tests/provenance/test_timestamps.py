"""Trusted timestamps from a local RFC 3161 TSA: signing time, and expiry after signing."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from reelproof.provenance import (
    DevPki,
    TrustConfig,
    init_dev_pki,
    issue_dev_leaf,
    load_signer,
    sign,
    verify,
)
from reelproof.provenance.trust import TIME_STAMPING_EKU

from .conftest import make_spec
from .local_tsa import local_tsa


@pytest.fixture(scope="module")
def tsa_cert(pki: DevPki) -> tuple[Path, Path]:
    return issue_dev_leaf(pki.directory, "tsa", ekus=(TIME_STAMPING_EKU,), eku_critical=True)


def test_trusted_timestamp_gives_signing_time(
    carphone_mp4: Path, pki: DevPki, tsa_cert: tuple[Path, Path], trust: TrustConfig, tmp_path: Path
) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with local_tsa(*tsa_cert) as url:
        signed = sign(
            carphone_mp4,
            tmp_path / "ts.mp4",
            make_spec(),
            load_signer(pki.chain_pem, pki.key_pem, url),
        )
    report = verify(signed.dst, trust)
    assert report.state == "trusted"
    assert report.timestamp_trusted
    assert report.signing_time is not None
    stamped = dt.datetime.fromisoformat(report.signing_time)
    assert (
        before - dt.timedelta(seconds=2)
        <= stamped
        <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    )
    assert "timeStamp.trusted" in report.code_names
    assert "reelproof.timestamp.absent" not in report.code_names


def test_timestamp_from_untrusted_tsa_is_not_trusted(
    carphone_mp4: Path, pki: DevPki, trust: TrustConfig, tmp_path: Path
) -> None:
    other = init_dev_pki(tmp_path / "other")
    tsa = issue_dev_leaf(other.directory, "tsa", ekus=(TIME_STAMPING_EKU,), eku_critical=True)
    with local_tsa(*tsa) as url:
        signed = sign(
            carphone_mp4,
            tmp_path / "ts.mp4",
            make_spec(),
            load_signer(pki.chain_pem, pki.key_pem, url),
        )
    report = verify(signed.dst, trust)
    assert report.signing_time is not None and not report.timestamp_trusted
    assert "reelproof.timestamp.absent" in report.code_names


def test_expired_certificate_with_trusted_timestamp_stays_trusted(
    carphone_mp4: Path, pki: DevPki, tsa_cert: tuple[Path, Path], trust: TrustConfig, tmp_path: Path
) -> None:
    """The counterpart of the tamper suite's ``expired_cert_no_timestamp`` (which is invalid)."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    chain, key = issue_dev_leaf(
        pki.directory, "short-ts", lifetime=dt.timedelta(seconds=3), not_before=start
    )
    with local_tsa(*tsa_cert) as url:
        signed = sign(
            carphone_mp4, tmp_path / "short.mp4", make_spec(), load_signer(chain, key, url)
        )
    time.sleep(
        max(
            0.0,
            (start + dt.timedelta(seconds=4) - dt.datetime.now(dt.UTC)).total_seconds(),
        )
    )
    report = verify(signed.dst, trust)
    assert report.state == "trusted", report.failure_codes
    assert report.timestamp_trusted
