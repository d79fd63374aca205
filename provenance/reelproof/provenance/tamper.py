"""The provenance tamper suite: real attacks on signed MP4 files and the state each must give.

Used by ``tests/provenance`` and by ``reelproof eval provenance``. The byte-level operations walk
top-level ISO-BMFF boxes only (enough to aim at ``mdat``, ``moov`` and the C2PA ``uuid`` box);
reading and writing C2PA is left to c2pa-python.
"""

from __future__ import annotations

import datetime as dt
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelproof.core.errors import MediaDecodeError
from reelproof.core.results import Result
from reelproof.provenance.manifest import GeneratorInfo, ManifestSpec
from reelproof.provenance.pki import DevPki, init_dev_pki, issue_dev_leaf
from reelproof.provenance.signing import load_signer, sign, sign_edit
from reelproof.provenance.trust import MICROSOFT_C2PA_EKU, TrustConfig
from reelproof.provenance.verify import ProvenanceReport, verify, walk_ingredients


@dataclass(frozen=True)
class Box:
    """A top-level ISO-BMFF box: ``kind`` (4 chars), ``offset``, total ``size``, ``header`` size."""

    kind: str
    offset: int
    size: int
    header: int


def top_level_boxes(data: bytes) -> list[Box]:
    """The top-level boxes of an ISO-BMFF file held in memory."""
    boxes: list[Box] = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            raise MediaDecodeError(f"malformed box at offset {offset}")
        boxes.append(Box(kind.decode("latin-1"), offset, size, header))
        offset += size
    return boxes


def _box(data: bytes, kind: str) -> Box:
    for box in top_level_boxes(data):
        if box.kind == kind:
            return box
    raise MediaDecodeError(f"no top-level {kind!r} box")


def _flip(data: bytes, position: int, mask: int = 0xFF) -> bytes:
    out = bytearray(data)
    out[position] ^= mask
    return bytes(out)


def flip_mdat_byte(src: Path, dst: Path) -> Path:
    """Invert one byte in the middle of the media data (``mdat``)."""
    data = src.read_bytes()
    box = _box(data, "mdat")
    dst.write_bytes(_flip(data, box.offset + box.header + (box.size - box.header) // 2))
    return dst


def flip_moov_bit(src: Path, dst: Path) -> Path:
    """Flip the lowest bit of the movie header's creation time (inside ``moov``/``mvhd``)."""
    data = src.read_bytes()
    box = _box(data, "moov")
    mvhd = data.find(b"mvhd", box.offset, box.offset + box.size)
    if mvhd < 0:
        raise MediaDecodeError("moov has no mvhd box")
    dst.write_bytes(_flip(data, mvhd + 4 + 4 + 3, 0x01))  # type, version+flags, creation time
    return dst


def _manifest_box(data: bytes) -> Box:
    for box in top_level_boxes(data):
        if box.kind == "uuid" and b"jumdc2pa" in data[box.offset : box.offset + 128]:
            return box
    raise MediaDecodeError("no C2PA manifest box")


def edit_manifest_text(src: Path, dst: Path, old: bytes, new: bytes) -> Path:
    """Replace an assertion value inside the embedded manifest (same length, so it still parses)."""
    if len(old) != len(new):
        raise ValueError("old and new must have the same length")
    data = src.read_bytes()
    box = _manifest_box(data)
    at = data.find(old, box.offset, box.offset + box.size)
    if at < 0:
        raise ValueError(f"{old!r} is not in the manifest")
    dst.write_bytes(data[:at] + new + data[at + len(new) :])
    return dst


def flip_signature_byte(src: Path, dst: Path) -> Path:
    """Invert one byte of the COSE signature value (near the end of ``c2pa.signature``)."""
    data = src.read_bytes()
    box = _manifest_box(data)
    label = data.find(b"c2pa.signature", box.offset, box.offset + box.size)
    cbor = data.find(b"cbor", label, box.offset + box.size)
    if label < 0 or cbor < 0:
        raise MediaDecodeError("no c2pa.signature box")
    (size,) = struct.unpack(">I", data[cbor - 4 : cbor])
    # COSE_Sign1 ends with its signature (64 bytes for ES256); 10 bytes from the end is inside it.
    dst.write_bytes(_flip(data, cbor - 4 + size - 10))
    return dst


def append_free_box(src: Path, dst: Path, payload: bytes = b"appended by a CDN") -> Path:
    """Append a top-level ``free`` box (what some muxers and CDNs add as padding)."""
    dst.write_bytes(src.read_bytes() + struct.pack(">I4s", 8 + len(payload), b"free") + payload)
    return dst


def remux(src: Path, dst: Path) -> Path:
    """Copy the video stream into a new MP4 without re-encoding (FFmpeg drops the C2PA box)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        stream = inp.streams.video[0]
        target = out.add_stream_from_template(stream)
        for packet in inp.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = target
            out.mux(packet)
    return dst


def reencode(src: Path, dst: Path, crf: int = 28) -> Path:
    """Decode and re-encode as H.264 (``reelproof.core.io``), as platforms do on upload."""
    from reelproof.core.io import VideoWriter, iter_chunks, probe

    info = probe(src)
    with VideoWriter(dst, info.fps, info.width, info.height, crf=crf, preset="veryfast") as writer:
        for chunk in iter_chunks(src):
            writer.write(chunk.frames)
    return dst


@dataclass(frozen=True)
class TamperOutcome(Result):
    """One tamper case: what was done, what was expected and what the verifier said.

    Attributes:
        name: case id.
        description: what the attack does.
        expected_state / expected_code: what the verifier must report (code: ``None`` = any).
        state / codes: what it reported (failure codes, else all codes).
        passed: state matches and the expected code is present.
        note: why this is the right answer.
    """

    schema = "tamper_outcome"

    name: str
    description: str
    expected_state: str
    expected_code: str | None
    state: str
    codes: tuple[str, ...]
    passed: bool
    note: str


@dataclass(frozen=True)
class _Case:
    name: str
    description: str
    expected_state: str
    expected_code: str | None
    note: str
    run: Callable[[], ProvenanceReport]


def _outcome(case: _Case) -> TamperOutcome:
    report = case.run()
    failures = report.failure_codes
    codes = failures or report.code_names
    names = set(report.code_names)
    for ingredient in walk_ingredients(report.ingredients):
        names.update(c.code for c in ingredient.codes)
    code_ok = case.expected_code is None or case.expected_code in names
    return TamperOutcome(
        name=case.name,
        description=case.description,
        expected_state=case.expected_state,
        expected_code=case.expected_code,
        state=report.state,
        codes=tuple(codes),
        passed=report.state == case.expected_state and code_ok,
        note=case.note,
    )


def _spec(title: str, watermark_id: str) -> ManifestSpec:
    return ManifestSpec(
        title=title,
        generator=GeneratorInfo("tamper-suite", "1", "sha256:" + "0" * 64),
        watermark_id=watermark_id,
    )


def run_tamper_suite(
    workdir: Path, source_clip: Path, pki: DevPki | None = None
) -> list[TamperOutcome]:
    """Sign ``source_clip`` (an unsigned MP4) and run every tamper case on it, in ``workdir``.

    Also signs and verifies intact files (a plain signed clip, the same clip signed through
    ``sign_edit``), which must stay ``trusted``: the false-alarm check.
    """
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    pki = pki or init_dev_pki(work / "pki", overwrite=True)
    trust = TrustConfig(anchors_pem=pki.root_pem.read_text())
    signer = load_signer(pki.chain_pem, pki.key_pem)
    wid = "0123456789abcdef"

    # The expiring certificate is signed first and checked last, after it has expired.
    short_chain, short_key = issue_dev_leaf(
        pki.directory,
        "short-lived",
        lifetime=dt.timedelta(seconds=4),
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
    )
    expired_file = sign(
        source_clip,
        work / "expired.mp4",
        _spec("expired", wid),
        load_signer(short_chain, short_key),
    )
    expires_at = time.monotonic() + 4.0  # 3 s of validity left, plus a margin

    signed = sign(source_clip, work / "signed.mp4", _spec("signed", wid), signer).dst
    ms_chain, ms_key = issue_dev_leaf(pki.directory, "ms-eku", ekus=(MICROSOFT_C2PA_EKU,))
    wrong_eku = sign(
        source_clip, work / "wrong_eku.mp4", _spec("wrong-eku", wid), load_signer(ms_chain, ms_key)
    ).dst
    other = init_dev_pki(work / "other-pki", overwrite=True)
    untrusted = sign(
        source_clip,
        work / "untrusted.mp4",
        _spec("untrusted", wid),
        load_signer(other.chain_pem, other.key_pem),
    ).dst
    tampered_parent = flip_mdat_byte(signed, work / "parent_tampered.mp4")
    good_edit = sign_edit(
        signed, source_clip, work / "edit_of_intact.mp4", ["c2pa.edited"], signer
    ).dst
    bad_edit = sign_edit(
        tampered_parent, source_clip, work / "edit_of_tampered.mp4", ["c2pa.edited"], signer
    ).dst

    def v(path: Path, policy: TrustConfig = trust) -> Callable[[], ProvenanceReport]:
        return lambda: verify(path, policy)

    cases = [
        _Case(
            "intact",
            "signed clip, untouched",
            "trusted",
            "assertion.bmffHash.match",
            "false-alarm check: intact files must verify",
            v(signed),
        ),
        _Case(
            "intact_edit",
            "intact parent, edit signed with sign_edit",
            "trusted",
            "ingredient.manifest.validated",
            "false-alarm check on an edit chain",
            v(good_edit),
        ),
        _Case(
            "mdat_byte_flip",
            "one byte of the media data inverted",
            "invalid",
            "assertion.bmffHash.mismatch",
            "the hard binding hashes every media byte",
            v(flip_mdat_byte(signed, work / "mdat_flip.mp4")),
        ),
        _Case(
            "moov_bit_flip",
            "one bit of the movie header (moov/mvhd) flipped",
            "invalid",
            "assertion.bmffHash.mismatch",
            "moov is covered by the BMFF hash",
            v(flip_moov_bit(signed, work / "moov_flip.mp4")),
        ),
        _Case(
            "assertion_edit",
            "soft-binding value (watermark id) rewritten in the manifest",
            "invalid",
            "assertion.hashedURI.mismatch",
            "the claim stores a hash of every assertion",
            v(
                edit_manifest_text(
                    signed, work / "assertion_edit.mp4", wid.encode(), b"fedcba9876543210"
                )
            ),
        ),
        _Case(
            "signature_byte",
            "one byte of the COSE signature inverted",
            "invalid",
            "claimSignature.mismatch",
            "the signature no longer verifies over the claim",
            v(flip_signature_byte(signed, work / "sig_flip.mp4")),
        ),
        _Case(
            "stripped_by_remux",
            "stream-copied into a new MP4 (FFmpeg drops the C2PA box)",
            "absent",
            "reelproof.manifest.absent",
            "absence is not evidence of tampering; the watermark can recover the manifest",
            v(remux(signed, work / "remuxed.mp4")),
        ),
        _Case(
            "reencoded",
            "decoded and re-encoded to H.264 CRF 28",
            "absent",
            "reelproof.manifest.absent",
            "re-encoding writes a new file without credentials",
            v(reencode(signed, work / "reencoded.mp4")),
        ),
        _Case(
            "appended_free_box",
            "a top-level free box appended after moov",
            "trusted",
            "assertion.bmffHash.additionalExclusionsPresent",
            "the BMFF hash excludes top-level free/skip boxes: padding carries no media",
            v(append_free_box(signed, work / "free_appended.mp4")),
        ),
        _Case(
            "untrusted_root",
            "signed under an unrelated root",
            "valid_untrusted",
            "signingCredential.untrusted",
            "intact, but the signer is not on the trust list",
            v(untrusted),
        ),
        _Case(
            "wrong_eku",
            f"signing certificate with an EKU the policy does not allow ({MICROSOFT_C2PA_EKU})",
            "invalid",
            "signingCredential.invalid",
            "the policy's allowed EKUs exclude it",
            v(wrong_eku),
        ),
        _Case(
            "tampered_parent_trusted_edit",
            "trusted edit whose parent was tampered before editing",
            "trusted",
            "reelproof.ingredient.failed",
            "the edit's own manifest is intact; the parent's recorded failure shows in the "
            "ingredient tree",
            v(bad_edit),
        ),
    ]
    outcomes = [_outcome(case) for case in cases]
    time.sleep(max(0.0, expires_at - time.monotonic()))
    outcomes.append(
        _outcome(
            _Case(
                "expired_cert_no_timestamp",
                "signing certificate expired, no timestamp",
                "invalid",
                "signingCredential.expired",
                "without a trusted timestamp the certificate is judged at verification time",
                v(expired_file.dst),
            ),
        )
    )
    return outcomes
