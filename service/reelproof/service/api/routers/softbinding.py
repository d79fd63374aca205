"""C2PA Soft Binding Resolution-style lookups: watermark id -> stored manifest.

One manifest is resolvable per watermark id (the store keeps the latest one signed under it), so
the manifest id the API hands out is the watermark id itself (16 hex digits).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reelproof.core.errors import InputError
from reelproof.provenance import StoredManifest
from reelproof.provenance.trust import REELPROOF_SOFT_BINDING_ALG
from reelproof.service.api.deps import Owner, ServiceState, State
from reelproof.service.api.models import Algorithm, AlgorithmList, Match, MatchList
from reelproof.service.api.problems import ProblemError, problem_openapi

WATERMARK_ALG = REELPROOF_SOFT_BINDING_ALG  # the alg the signed manifests record
router = APIRouter(tags=["soft-binding"])
COMMON = problem_openapi(400, 401, 422, 429)


@router.get(
    "/v1/services/supportedAlgorithms",
    response_model=AlgorithmList,
    summary="Soft-binding algorithms this resolver understands (C2PA SBR style)",
)
async def supported_algorithms() -> AlgorithmList:
    return AlgorithmList(watermarks=[Algorithm(alg=WATERMARK_ALG)], fingerprints=[])


@router.get(
    "/v1/matches/byBinding",
    response_model=MatchList,
    summary="Manifests stored under a watermark id (C2PA Soft Binding Resolution style)",
    responses=COMMON,
)
async def matches_by_binding(
    state: State,
    owner: Owner,
    alg: Annotated[str, Query(description=f"soft-binding algorithm: {WATERMARK_ALG}")],
    value: Annotated[
        str,
        Query(description="watermark id: base64 of the payload bytes, or hex", max_length=512),
    ],
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=100)] = 10,
) -> MatchList:
    if alg != WATERMARK_ALG:
        raise ProblemError(422, f"unsupported alg {alg!r}; use {WATERMARK_ALG}", "bad-alg")
    watermark_id = binding_to_hex(value)
    stored = await run_in_threadpool(_lookup, state, watermark_id, strict=True)
    found = [] if stored is None else [Match(manifestId=stored.watermark_id)]
    return MatchList(matches=found[:max_results])


@router.get(
    "/v1/manifests/{manifest_id}",
    summary="A stored manifest by id (C2PA Soft Binding Resolution style)",
    responses={
        200: {
            "description": "The manifest store",
            "content": {
                "application/c2pa": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
        },
        **COMMON,
        **problem_openapi(404),
    },
)
async def get_manifest(manifest_id: str, request: Request, state: State, owner: Owner) -> Response:
    stored = await run_in_threadpool(_lookup, state, manifest_id, strict=False)
    if stored is None:
        raise ProblemError(404, f"no stored manifest {manifest_id}", "not-found")
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(stored.to_dict())
    return Response(bytes(stored.manifest_bytes), media_type="application/c2pa")


def _lookup(state: ServiceState, watermark_id: str, strict: bool) -> StoredManifest | None:
    """The manifest stored under ``watermark_id``.

    Raises:
        InputError: (``strict`` only) the id is not 16 hex digits; otherwise such an id is
            simply not a stored manifest.
        ConfigError: the manifest store cannot be opened.
    """
    store = state.light.resources.open_store()
    try:
        return store.lookup(watermark_id)
    except InputError:
        if strict:
            raise
        return None


def binding_to_hex(value: str) -> str:
    """A soft-binding value (hex, or base64 of the id's bytes) as lower-case hex."""
    text = value.strip()
    if re.fullmatch(r"(0x)?[0-9a-fA-F]{4,128}", text):
        return text.lower().removeprefix("0x")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ProblemError(
            422, "value must be base64 or hex of the watermark id", "bad-value"
        ) from None
    if not raw:
        raise ProblemError(422, "value is empty", "bad-value")
    return raw.hex()
