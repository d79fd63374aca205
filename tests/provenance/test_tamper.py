"""The tamper suite on real footage: each attack must give its expected state and code."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelproof.provenance import DevPki
from reelproof.provenance.tamper import TamperOutcome, run_tamper_suite

# Expectations written here independently of the suite's own table, so a change on either side
# fails a test.
EXPECTED = {
    "intact": ("trusted", "assertion.bmffHash.match"),
    "intact_edit": ("trusted", "ingredient.manifest.validated"),
    "mdat_byte_flip": ("invalid", "assertion.bmffHash.mismatch"),
    "moov_bit_flip": ("invalid", "assertion.bmffHash.mismatch"),
    "assertion_edit": ("invalid", "assertion.hashedURI.mismatch"),
    "signature_byte": ("invalid", "claimSignature.mismatch"),
    "stripped_by_remux": ("absent", "reelproof.manifest.absent"),
    "reencoded": ("absent", "reelproof.manifest.absent"),
    "appended_free_box": ("trusted", "assertion.bmffHash.additionalExclusionsPresent"),
    "untrusted_root": ("valid_untrusted", "signingCredential.untrusted"),
    "wrong_eku": ("invalid", "signingCredential.invalid"),
    "tampered_parent_trusted_edit": ("trusted", "reelproof.ingredient.failed"),
    "expired_cert_no_timestamp": ("invalid", "signingCredential.expired"),
}


@pytest.fixture(scope="module")
def outcomes(
    carphone_mp4: Path, pki: DevPki, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, TamperOutcome]:
    work = tmp_path_factory.mktemp("tamper")
    return {o.name: o for o in run_tamper_suite(work, carphone_mp4, pki)}


def test_suite_covers_every_case(outcomes: dict[str, TamperOutcome]) -> None:
    assert set(outcomes) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_case_gives_expected_state_and_code(name: str, outcomes: dict[str, TamperOutcome]) -> None:
    outcome = outcomes[name]
    state, code = EXPECTED[name]
    assert (outcome.expected_state, outcome.expected_code) == (state, code)
    assert outcome.state == state, outcome
    assert outcome.passed, outcome


def test_no_false_alarm_on_intact_files(outcomes: dict[str, TamperOutcome]) -> None:
    intact = [outcomes[n] for n in ("intact", "intact_edit", "appended_free_box")]
    assert all(o.state == "trusted" and o.codes for o in intact)
    assert all(not any(c.endswith("mismatch") for c in o.codes) for o in intact)
