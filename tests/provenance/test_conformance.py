"""Conformance on other implementations' files (c2pa-rs's fixtures, ../shared/c2pa-fixtures).

The expected state of each file is what a stock ``c2pa.Reader`` reports with the same trust
anchors, except where a ReelProof rule says otherwise (each rule asserted below), and no file
whose bytes are as their signer wrote them is ever called ``content_altered``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reelproof.eval.c2pa_conformance import ANCHORS, Row, conformance_rows
from reelproof.provenance import SignResult, TrustConfig, verify
from reelproof.service.cli import EXIT_BAD_INPUT, EXIT_OK, run

# Broken on purpose in bytes the signature covers (SOURCES.md): a changed picture, a changed
# signature, an assertion that no longer matches its hash in the claim.
ALTERED = {"stills/XCA.jpg", "stills/E-sig-CA.jpg", "stills/adobe-20220124-E-clm-CAICAI.jpg"}
REFUSED = {"video/nested_moov_1000.mp4", "video/dash1.m4s"}  # the reference cannot parse them


@pytest.fixture(scope="module")
def rows(c2pa_fixtures: Path) -> dict[str, Row]:
    return {row.file: row for row in conformance_rows(c2pa_fixtures)}


@pytest.fixture(scope="module")
def fixture_trust(c2pa_fixtures: Path) -> TrustConfig:
    return TrustConfig.from_files(c2pa_fixtures / ANCHORS)


def test_every_fixture_is_read(rows: dict[str, Row], c2pa_fixtures: Path) -> None:
    files = {str(p.relative_to(c2pa_fixtures)) for p in c2pa_fixtures.glob("*/*") if p.is_file()}
    files -= {str(ANCHORS)}
    assert files <= set(rows), files - set(rows)
    assert len(rows) >= 21


def test_states_agree_with_the_reference_or_a_stated_rule(rows: dict[str, Row]) -> None:
    deviations = {name: (row.reference.state, row.state) for name, row in rows.items() if row.rule}
    assert all(row.rule != "UNEXPLAINED" for row in rows.values()), deviations
    assert deviations == {
        # The reference cannot read these at all.
        "video/nested_moov_1000.mp4": (None, "refused"),
        "video/dash1.m4s": (None, "refused"),
        "stills/no_alg.jpg": (None, "invalid"),
        "stills/prerelease.jpg": (None, "invalid"),
    }


def test_only_altered_bytes_give_content_altered(rows: dict[str, Row]) -> None:
    for name, row in rows.items():
        if name in ALTERED:
            assert (row.state, row.failure) == ("invalid", "content_altered"), name
        else:
            assert row.failure != "content_altered", (name, row.codes)


def test_unreadable_credentials_are_unreliable_never_tampered(rows: dict[str, Row]) -> None:
    for name in ("stills/no_alg.jpg", "stills/prerelease.jpg"):
        assert rows[name].failure == "credentials_unreliable"
        assert rows[name].codes == ("reelproof.manifest.unreadable",)
    for name in REFUSED:
        assert rows[name].state == "refused"


def test_cawg_identity_and_ingredient_signers_are_tolerated_and_named(
    c2pa_fixtures: Path, fixture_trust: TrustConfig
) -> None:
    """Not invalid (the failures are tolerated), not fully trusted (as the reference), and the
    summary says the file's own signer IS trusted."""
    cawg = verify(c2pa_fixtures / "stills" / "C_with_CAWG_data.jpg", fixture_trust)
    assert (cawg.state, cawg.failure, cawg.signer_trusted) == ("valid_untrusted", None, True)
    assert "cawg.x509.credential.untrusted" in cawg.failure_codes  # still listed, tolerated
    assert cawg.validator_state == "valid_untrusted"
    video = verify(c2pa_fixtures / "video" / "video1.mp4", fixture_trust)
    assert (video.state, video.signer_trusted) == ("valid_untrusted", True)
    assert "a signer you trust" in video.summary
    assert "the signer" not in video.summary.split("but", 1)[0].replace("signed by", "")
    assert [i.state for i in video.ingredients] == ["valid_untrusted"]


def test_an_ingredient_without_credentials_is_absent(
    c2pa_fixtures: Path, fixture_trust: TrustConfig
) -> None:
    report = verify(c2pa_fixtures / "stills" / "CA.jpg", fixture_trust)
    assert report.state == "trusted"
    assert [(i.title, i.state) for i in report.ingredients] == [("A.jpg", "absent")]


def test_a_missing_ingredient_manifest_is_the_ingredients_problem(
    c2pa_fixtures: Path, fixture_trust: TrustConfig
) -> None:
    report = verify(c2pa_fixtures / "stills" / "adobe-20220124-E-clm-CAICAI.jpg", fixture_trust)
    kinds = [(f.kind, f.ingredient) for f in report.findings]
    assert kinds == [("content_altered", None), ("ingredient_problem", "CAI.jpg")]
    states = {i.title: i.state for i in report.ingredients}
    assert states == {"A.jpg": "absent", "CAI.jpg": "invalid"}


def test_an_init_segment_alone_is_unverifiable_not_altered(
    rows: dict[str, Row], c2pa_fixtures: Path, fixture_trust: TrustConfig
) -> None:
    alone = rows["video/dashinit.mp4"]
    assert (alone.state, alone.failure) == ("invalid", "credentials_unreliable")
    assert "reelproof.bmff.fragmentsMissing" in alone.codes
    assert rows["video/dashinit.mp4 + dash1.m4s"].state == "valid_untrusted"


def test_a_truncated_signed_mp4_is_judged_from_its_credentials(
    signed_clip: SignResult, trust: TrustConfig, tmp_path: Path
) -> None:
    data = signed_clip.dst.read_bytes()
    cut = tmp_path / "truncated.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    report = verify(cut, trust)
    assert report.state == "invalid" and report.failure == "content_altered"
    assert "assertion.bmffHash.mismatch" in report.failure_codes


def test_cli_verifies_stills_and_refuses_unparseable_files(
    c2pa_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    renamed = tmp_path / "photo.mp4"  # a JPEG under a video's name: read from its bytes
    shutil.copyfile(c2pa_fixtures / "stills" / "C.jpg", renamed)
    anchors = str(c2pa_fixtures / ANCHORS)
    assert run(["provenance", "verify", str(renamed), "--trust", anchors, "--json"]) == EXIT_OK
    body = json.loads(capsys.readouterr().out)
    assert (body["state"], body["mime"], body["failure"]) == ("trusted", "image/jpeg", None)
    assert body["validator_state"] == "trusted" and body["findings"] == []
    nested = c2pa_fixtures / "video" / "nested_moov_1000.mp4"
    assert run(["provenance", "verify", str(nested)]) == EXIT_BAD_INPUT
    assert "Traceback" not in capsys.readouterr().err
