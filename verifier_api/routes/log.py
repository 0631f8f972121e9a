"""The log's read API (checkpoint and tiles in the C2SP tlog-tiles layout, entries and proofs) and
its one write route, ``POST /v1/log/entries`` (scope ``log`` or ``sign``): log a bundle an author
signed offline with a certificate of this publisher."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from provenance import JSON_LIMITS, Bundle, b64encode
from provenance.tlog import (
    TILE_WIDTH,
    TileId,
    decode_entry_bundle,
    encode_entry_bundle,
    parse_entries_path,
    parse_tile_path,
)
from verifier_api.auth import LogKey, ServiceDep
from verifier_api.errors import ApiError, SafeJSONResponse
from verifier_api.limits import ParsedJsonRoute
from verifier_api.schemas import (
    ConsistencyProofResponse,
    InclusionProofResponse,
    LogEntryResponse,
    LogSubmitRequest,
    LogSubmitResponse,
)
from verifier_api.service import Service, utc_now
from verifier_api.submissions import submit_bundle

router = APIRouter(prefix="/v1/log", tags=["log"], route_class=ParsedJsonRoute)
LAST_TILE_INDEX = JSON_LIMITS.max_exact_integer // TILE_WIDTH
"""The last level-0 tile of a log of 2**53-1 entries; tiles past it cannot exist (and their index
may not even fit the database's 64-bit integers)."""
Index = Annotated[int, Path(ge=0, le=JSON_LIMITS.max_exact_integer)]
TILE_CACHE = "public, max-age=31536000, immutable"


def _size(service: Service) -> int:
    return service.log.state().size


def _not_found(message: str) -> ApiError:
    return ApiError(404, "log.not_found", message)


@router.get(
    "/checkpoint", response_class=Response, responses={200: {"content": {"text/plain": {}}}}
)
def checkpoint(service: ServiceDep) -> Response:
    """The latest signed checkpoint (C2SP signed note)."""
    return Response(
        service.log.checkpoint(),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


def _existing(tile: TileId, path: str) -> TileId:
    if tile.index > LAST_TILE_INDEX:
        raise _not_found(
            f"tile {path} is past the largest log ({JSON_LIMITS.max_exact_integer} entries)"
        )
    return tile


def _tile_bytes(service: Service, path: str) -> bytes:
    tile = _existing(parse_tile_path(path), path)
    data = service.store.read_tile(tile.level, tile.index) or b""
    wanted = tile.width * 32
    if len(data) < wanted:
        raise _not_found(f"tile {path} does not exist (yet)")
    return data[:wanted]


def _entries_bytes(service: Service, path: str) -> bytes:
    tile = _existing(parse_entries_path(path), path)
    data = service.store.read_entry_bundle(tile.index) or b""
    entries = decode_entry_bundle(data)
    if len(entries) < tile.width:
        raise _not_found(f"entry bundle {path} does not exist (yet)")
    return encode_entry_bundle(entries[: tile.width])


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def tile(path: str, service: ServiceDep) -> Response:
    """A hash tile ``tile/<L>/<N>[.p/<W>]`` or entry bundle ``tile/entries/<N>[.p/<W>]``."""
    full = f"tile/{path}"
    try:
        data = (
            _entries_bytes(service, full)
            if path.startswith("entries/")
            else _tile_bytes(service, full)
        )
    except ValueError as exc:
        raise _not_found(f"{full} is not a tile path: {exc}") from exc
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": TILE_CACHE}
    )


@router.post(
    "/entries",
    response_model=LogSubmitResponse,
    status_code=201,
    responses={200: {"model": LogSubmitResponse, "description": "Logged before: its entry"}},
    summary="Log an author's bundle",
)
def submit(request: LogSubmitRequest, service: ServiceDep, _key: LogKey) -> Any:
    """Verify a bundle against this publisher's trust root, log it once, return it with its entry.

    201 when this request appended it; 200 (``Idempotent-Replayed: true``) when the signature was
    logged before, whatever its ``keyid`` or S. Refusals: 422 with the verification code
    (``certificate.revoked``, ...), 422 ``log.signed_by_service`` (``/v1/sign`` logged it), 409
    ``log.certificate_conflict`` (logged under another certificate of its key), 409
    ``log.pending``.
    """
    bundle = Bundle.from_decoded(request.bundle)
    logged = submit_bundle(service, bundle, utc_now())
    answer = LogSubmitResponse(bundle=logged.bundle.to_json(), log_index=logged.log_index)
    if logged.appended:
        return SafeJSONResponse(answer.model_dump(by_alias=True), status_code=201)
    return SafeJSONResponse(
        answer.model_dump(by_alias=True), headers={"Idempotent-Replayed": "true"}
    )


@router.get("/entries/{index}", response_model=LogEntryResponse)
def entry(index: Index, service: ServiceDep) -> Any:
    """The leaf at ``index``."""
    if index >= _size(service):
        raise _not_found(f"leaf {index} is not in the log")
    leaf = service.log.entry(index)
    return LogEntryResponse(index=index, leaf_hash=b64encode(leaf.leaf_hash), entry=leaf.to_json())


@router.get("/proofs/inclusion", response_model=InclusionProofResponse)
def inclusion_proof(
    service: ServiceDep,
    index: Annotated[int, Query(ge=0, le=JSON_LIMITS.max_exact_integer)],
    tree_size: Annotated[
        int | None, Query(alias="treeSize", ge=1, le=JSON_LIMITS.max_exact_integer)
    ] = None,
) -> Any:
    """The inclusion proof of leaf ``index`` up to ``treeSize`` (default: the current size)."""
    current = service.log.state()
    size = tree_size or current.size
    if index >= size or size > current.size:
        raise _not_found(f"leaf {index} is not in a tree of size {size} of this log")
    proof = service.log.inclusion_proof(index, size, current=current)
    return InclusionProofResponse(**proof.to_json() | {"checkpoint": proof.checkpoint})


@router.get("/proofs/consistency", response_model=ConsistencyProofResponse)
def consistency_proof(
    service: ServiceDep,
    first: Annotated[int, Query(ge=1, le=JSON_LIMITS.max_exact_integer)],
    second: Annotated[int | None, Query(ge=1, le=JSON_LIMITS.max_exact_integer)] = None,
) -> Any:
    """The consistency proof from tree size ``first`` to ``second`` (default: the current)."""
    size = second or _size(service)
    if not first <= size <= _size(service):
        raise _not_found(f"expected first <= second <= {_size(service)}")
    hashes = service.log.consistency_proof(first, size)
    note = service.store.read_checkpoint(size)
    if note is None:
        raise _not_found(f"no checkpoint was committed at tree size {size}")
    return ConsistencyProofResponse(
        first=first, second=size, hashes=[b64encode(h) for h in hashes], checkpoint=note
    )
