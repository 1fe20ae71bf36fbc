"""The transparency log's public API: signed checkpoints, inclusion and consistency proofs, entries.

The same four questions as a Certificate Transparency log answers (RFC 9162 section 5: get-sth,
get-proof-by-hash, get-sth-consistency, get-entries), in Zvarot's own paths; hashes in lowercase hex as in
the LogCheckpoint document. Open to anyone: entries name hashes only, never what a document says.
"""

from __future__ import annotations

import re
from datetime import UTC

from flask import Blueprint, Response, current_app, jsonify, request

from gateway.domain.ids import whole_number
from gateway.errors import Problem
from gateway.interfaces.http.api import problem_response
from gateway.services.transparency import MAX_ENTRIES, Checkpoint

blueprint = Blueprint("transparency", __name__)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_ID = re.compile(r"[a-z][a-z0-9\-]{1,63}")
_APPEAL_ID = re.compile(r"ap-[0-9a-z]{26}")


def _gateway():
    return current_app.extensions["zvarot"]


def _problem(status: int, code: str, detail: str) -> Response:
    return problem_response(status, Problem(code, detail))


def _number(name: str, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    return default if raw is None else whole_number(raw)


def _summary(checkpoint: Checkpoint) -> dict:
    return {
        "origin": _gateway().log.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "issued_at": checkpoint.issued_at.astimezone(UTC).isoformat(),
        "checkpoint": f"/api/v1/log/checkpoints/{checkpoint.tree_size}",
    }


@blueprint.get("/api/v1/log")
def latest() -> Response:
    gateway = _gateway()
    with gateway.sessions() as session:
        checkpoint = gateway.log.latest(session)
    if checkpoint is None:
        return _problem(404, "not-found", "the log has no checkpoint yet (zvarot worker signs one)")
    return jsonify(_summary(checkpoint))


@blueprint.get("/api/v1/log/checkpoints/<size>")
def checkpoint_document(size: str) -> Response:
    """The signed LogCheckpoint of that size ("latest": the newest), as the gateway signed it."""
    gateway = _gateway()
    with gateway.sessions() as session:
        if size == "latest":
            checkpoint = gateway.log.latest(session)
        else:
            number = whole_number(size)
            if number is None:
                return _problem(
                    400, "bad-request", f"a tree size is a whole number or 'latest', not {size!r}"
                )
            checkpoint = gateway.log.checkpoint(session, number)
    if checkpoint is None:
        return _problem(404, "not-found", f"no checkpoint of tree size {size}")
    response = Response(checkpoint.document, mimetype="application/xml")
    if size != "latest":  # a signed checkpoint never changes
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@blueprint.get("/api/v1/log/proof")
def inclusion() -> Response:
    """Where an entry is, and the audit path from it to the root of a checkpoint (default the newest). The
    entry is named by its leaf hash and found through the document's own key: a receipt's receipt_id, or
    the appeal_id of a document about an appeal."""
    raw = request.args.get("leaf_hash", "")
    if not _HEX64.fullmatch(raw):
        return _problem(400, "bad-request", "leaf_hash: the entry's leaf hash, 64 hex digits")
    receipt_id, appeal_id = request.args.get("receipt_id"), request.args.get("appeal_id")
    if not receipt_id and not appeal_id:
        return _problem(
            400, "bad-request", "receipt_id (for a receipt) or appeal_id (for a document about an appeal)"
        )
    # The schemas' patterns (xsd/common.xsd Id, AppealId): anything else names no document.
    if (receipt_id and not _ID.fullmatch(receipt_id)) or (appeal_id and not _APPEAL_ID.fullmatch(appeal_id)):
        return _problem(400, "bad-request", "receipt_id or appeal_id is not an id of the gateway's documents")
    gateway = _gateway()
    with gateway.sessions() as session:
        checkpoint = _named_or_latest(session, "tree_size")
        if isinstance(checkpoint, Response):
            return checkpoint
        index = gateway.log.position(session, bytes.fromhex(raw), receipt_id, appeal_id)
        if index is None:
            return _problem(404, "not-found", "no entry of the log has this leaf hash for that document")
        if index >= checkpoint.tree_size:
            return _problem(
                404,
                "not-yet-checkpointed",
                f"the entry is at index {index}, after the checkpoint of tree size {checkpoint.tree_size}: "
                "ask again once a later checkpoint is signed",
            )
        path = gateway.log.inclusion_proof(session, index, checkpoint.tree_size)
    return jsonify(
        {
            "leaf_hash": raw.lower(),
            "leaf_index": index,
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash.hex(),
            "audit_path": [h.hex() for h in path],
        }
    )


@blueprint.get("/api/v1/log/consistency")
def consistency() -> Response:
    """The proof that the checkpoint of size `second` extends the log of size `first` (whose root the auditor
    holds from an earlier checkpoint: the gateway need not have kept it)."""
    first, second = _number("first"), _number("second")
    if first is None or second is None or not 0 < first <= second:
        return _problem(400, "bad-request", "first and second: tree sizes with 0 < first <= second")
    gateway = _gateway()
    with gateway.sessions() as session:
        newer = gateway.log.checkpoint(session, second)
        if newer is None:
            return _problem(404, "not-found", f"no checkpoint of tree size {second}")
        path = gateway.log.consistency_proof(session, first, second)
    return jsonify(
        {
            "first": first,
            "second": second,
            "second_root_hash": newer.root_hash.hex(),
            "consistency_path": [h.hex() for h in path],
        }
    )


@blueprint.get("/api/v1/log/entries")
def entries() -> Response:
    """Entries [start, end) in log order, at most MAX_ENTRIES per request: an auditor rebuilds the tree."""
    start, end = _number("start", 0), _number("end")
    if start is None or end is None or end <= start:
        return _problem(
            400, "bad-request", f"start and end: whole numbers, start < end (at most {MAX_ENTRIES})"
        )
    gateway = _gateway()
    with gateway.sessions() as session:
        rows = gateway.log.entries(session, start, end)
    return jsonify(
        {"entries": [{"index": i, "entry": entry, "leaf_hash": leaf.hex()} for i, entry, leaf in rows]}
    )


def _named_or_latest(session, name: str) -> Checkpoint | Response:
    gateway = _gateway()
    raw = request.args.get(name)
    if raw is None:
        checkpoint = gateway.log.latest(session)
        if checkpoint is None:
            return _problem(404, "not-found", "the log has no checkpoint yet")
        return checkpoint
    size = whole_number(raw)
    if size is None:
        return _problem(400, "bad-request", f"{name}: a whole number, not {raw!r}")
    checkpoint = gateway.log.checkpoint(session, size)
    if checkpoint is None:
        return _problem(404, "not-found", f"no checkpoint of tree size {size}")
    return checkpoint
