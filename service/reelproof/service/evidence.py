"""The evidence list: one plain sentence per signal (two when stripped credentials were
recovered), each with its machine-readable code and the facts behind it."""

from __future__ import annotations

from reelproof.core.results import JsonValue
from reelproof.provenance.codes import FAILURE_KIND_SENTENCES, FailureKind
from reelproof.provenance.validation import ProvenanceFinding
from reelproof.service.facts import (
    AI_SOURCE_TYPES,
    DetectorFacts,
    Evidence,
    ProvenanceFacts,
    SignalFacts,
    SignalName,
)
from reelproof.service.signals import SignalStatus


def provenance_evidence(facts: SignalFacts) -> list[Evidence]:
    prov = facts.provenance
    if prov is None:
        return [_missing_signal("provenance", facts.provenance_status, facts.errors)]
    details: dict[str, JsonValue] = {
        "state": prov.state,
        "signer": prov.signer,
        "codes": list(prov.codes),
    }
    if prov.digital_source_type:
        details["digital_source_type"] = prov.digital_source_type
    return [_own_credentials(prov, details), *map(_ingredient_problem, prov.ingredient_findings)]


def _own_credentials(prov: ProvenanceFacts, details: dict[str, JsonValue]) -> Evidence:
    """The finding about the file's own manifest."""
    declared = declared_phrase(prov.digital_source_type)
    if prov.state == "invalid":
        kind: FailureKind = "content_altered" if prov.content_altered else "credentials_unreliable"
        details["failure"] = kind
        own = prov.own_finding
        said = f"{own.sentence} ({', '.join(own.codes)})" if own else FAILURE_KIND_SENTENCES[kind]
        code = "tampered" if kind == "content_altered" else "credentials_unreliable"
        return Evidence(code, "provenance", f"Content Credentials: {said}", details)
    if prov.state == "trusted":
        msg = f"Valid Content Credentials signed by {prov.signer or 'an unnamed signer'}, "
        msg += f"a trusted signer{declared}."
        return Evidence("credentials_trusted", "provenance", msg, details)
    if prov.state == "valid_untrusted" and prov.signer_trusted:
        msg = f"Content Credentials are intact and signed by {prov.signer or 'an unnamed signer'}"
        msg += ", a trusted signer, but not every credential in them is trusted (an "
        msg += f"ingredient's signer or an identity credential is not on the trust list){declared}."
        return Evidence("credentials_untrusted", "provenance", msg, details)
    if prov.state == "valid_untrusted":
        dev = " (a development certificate)" if prov.dev_certificate else ""
        msg = f"Content Credentials are intact but the signer {prov.signer or '(unnamed)'}{dev} "
        msg += f"is not on the trust list{declared}."
        return Evidence("credentials_untrusted", "provenance", msg, details)
    msg = "No Content Credentials. Most authentic footage carries none, so this is not evidence "
    msg += "of fakery."
    return Evidence("credentials_absent", "provenance", msg, details)


def _ingredient_problem(finding: ProvenanceFinding) -> Evidence:
    """An ingredient's own problem, reported beside (never instead of) the file's state."""
    msg = f"An ingredient ({finding.ingredient}) has a problem: {finding.sentence} The file's "
    msg += "own credentials are judged separately."
    details: dict[str, JsonValue] = {
        "ingredient": finding.ingredient,
        "failure": finding.kind,
        "codes": list(finding.codes),
    }
    return Evidence("ingredient_problem", "provenance", msg, details)


def declared_phrase(source_type: str | None) -> str:
    if not source_type:
        return ""
    short = source_type.rstrip("/").rsplit("/", 1)[-1]
    if short.endswith(AI_SOURCE_TYPES):
        return f"; they declare the clip AI-generated ({short})"
    return f"; they declare the source as {short}"


def watermark_evidence(facts: SignalFacts) -> list[Evidence]:
    wm = facts.watermark
    if wm is None:
        return [_missing_signal("watermark", facts.watermark_status, facts.errors)]
    details: dict[str, JsonValue] = {
        "p_value": wm.p_value,
        "payload": wm.payload,
        "payload_verified": wm.payload_verified,
        "key_id": wm.key_id,
        "method": wm.method,
    }
    if not wm.evaluable:
        reason = wm.reason or "the clip is too short or too small"
        return [
            Evidence(
                "watermark_not_evaluable",
                "watermark",
                f"The watermark detector could not evaluate this clip: {reason}.",
                details,
            )
        ]
    if not wm.detected:
        msg = "No ReelProof watermark found. Only ReelProof-marked generators embed it, so this "
        msg += "says nothing about other generators."
        return [Evidence("watermark_absent", "watermark", msg, details)]
    p_text = f"p = {wm.p_value:.2g}" if wm.p_value is not None else "p unknown"
    ident = f", id {wm.payload}" if wm.payload and wm.payload_verified else ""
    msg = f"ReelProof watermark found ({p_text}, key {wm.key_id or 'unknown'}{ident}): the clip "
    msg += "came from a ReelProof-marked generator."
    out = [Evidence("ai_generated_marked", "watermark", msg, details)]
    rec = facts.recovery
    if rec is not None and rec.found:
        rec_details: dict[str, JsonValue] = {
            "state": rec.state,
            "signer": rec.signer,
            "fingerprint_matches": rec.fingerprint_matches,
            "hard_binding_matches": rec.hard_binding_matches,
        }
        rmsg = f"The credentials were stripped; the manifest stored under id {wm.payload} was "
        rmsg += f"recovered (signer {rec.signer or 'unknown'}, state {rec.state})."
        if rec.fingerprint_matches is False:
            rmsg += " But the pictures do NOT match the signed clip: the id may have been copied."
        elif rec.fingerprint_matches:
            rmsg += " The pictures still match the signed clip."
        out.append(Evidence("credentials_recovered", "watermark", rmsg, rec_details))
    elif rec is not None:
        out.append(
            Evidence(
                "manifest_not_in_store",
                "watermark",
                f"No stored manifest has the watermark id {wm.payload}.",
                {"payload": wm.payload},
            )
        )
    return out


def detector_evidence(facts: SignalFacts) -> list[Evidence]:
    det = facts.detector
    if det is None:
        return [_missing_signal("detector", facts.detector_status, facts.errors)]
    clip = _clip_evidence(det)
    return [clip, _face_evidence(det)] if det.faces else [clip]


def _face_evidence(det: DetectorFacts) -> Evidence:
    """One finding for every tracked face: a face scored synthetic is a lead of its own."""
    parts = [
        f"face {f.track_id + 1} ({f.start_s:.1f}-{f.end_s:.1f} s) p = {f.p_synthetic:.2f}, "
        f"{_FACE_WORDS.get(f.label, f.label)}"
        for f in det.faces
    ]
    details: dict[str, JsonValue] = {
        "faces": [
            {"track_id": f.track_id, "start_s": f.start_s, "end_s": f.end_s,
             "p_synthetic": f.p_synthetic, "label": f.label}
            for f in det.faces
        ]
    }  # fmt: skip
    count = f"{len(det.faces)} face{'s' * (len(det.faces) != 1)} tracked: " + "; ".join(parts)
    if det.synthetic_faces:
        msg = f"{count}. A face rated likely swapped or generated is a lead, not proof."
        return Evidence("face_likely_synthetic", "detector", msg, details)
    return Evidence("faces_scored", "detector", f"{count}.", details)


_FACE_WORDS = {
    "synthetic": "likely swapped or generated",
    "real": "no sign of a swap",
    "inconclusive": "uncertain",
}


def _clip_evidence(det: DetectorFacts) -> Evidence:
    details: dict[str, JsonValue] = {
        "p_synthetic": det.p_synthetic,
        "label": det.label,
        "model": det.model,
    }
    if det.p_synthetic is None:
        reason = (det.reason or "the clip could not be scored").rstrip(".")
        return Evidence("classifier_not_evaluable", "detector", f"Classifier: {reason}.", details)
    p = f"{det.p_synthetic:.2f}"
    if det.label == "synthetic":
        msg = f"The classifier rates the clip likely synthetic (p = {p}). Classifiers err; "
        msg += "treat this as a lead, not proof."
        return Evidence("likely_synthetic", "detector", msg, details)
    if det.label == "real":
        msg = f"The classifier rates the clip unlikely synthetic (p = {p}). This is not proof "
        msg += "of authenticity."
        return Evidence("classifier_real", "detector", msg, details)
    msg = f"The classifier is uncertain (p = {p})."
    return Evidence("classifier_uncertain", "detector", msg, details)


def _missing_signal(signal: SignalName, status: SignalStatus, errors: dict[str, str]) -> Evidence:
    reason = errors.get(signal, "")
    if status is SignalStatus.SKIPPED:
        return Evidence("signal_skipped", signal, f"The {signal} check was turned off.", {})
    if status is SignalStatus.UNAVAILABLE:
        msg = f"The {signal} check is not available here: {reason or 'not installed'}."
        return Evidence("signal_unavailable", signal, msg, {"reason": reason})
    if status is SignalStatus.NOT_APPLICABLE:
        msg = f"The {signal} check does not apply here: {reason or 'not for this kind of file'}."
        return Evidence("signal_not_applicable", signal, msg, {"reason": reason})
    msg = f"The {signal} check failed on this clip: {reason or 'unknown error'}."
    return Evidence("signal_error", signal, msg, {"reason": reason})
