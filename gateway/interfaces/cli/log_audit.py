"""`zvarot log audit` and `zvarot log prove`: an outsider's checks of the gateway's transparency log.

They need nothing but the gateway's public API and the trust store's root: every checkpoint's signature and
certificate chain are verified as `zvarot verify` does, every proof is recomputed here
(gateway.domain.transparency.merkle), and nothing the gateway says is taken on trust. The witness state an
auditor keeps between runs holds the last checkpoint it verified, signed: if the gateway ever answers with a
log that does not extend it, that file and the new checkpoint are the evidence.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway.domain.transparency import entries, merkle
from gateway.errors import Rejection
from gateway.services.transparency import Held, held
from gateway.trust.chain import CertificateVerifier
from gateway.trust.identity import subject_uid
from gateway.trust.store import TrustStore
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.schemas import SchemaRegistry
from gateway.xml.signatures import verify_document

# What an audit reads of the gateway: a path under its base URL -> the body (raises LogAuditFailure on error).
Fetch = Callable[[str], bytes]
PAGE = 1000  # entries per request (the API's most)
# The most an answer may weigh: a page of entries is ~250 KB, a checkpoint ~5 KB; a gateway that sends more
# is refused rather than allowed to fill the auditor's memory.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class LogAuditFailure(Exception):
    """The log, a checkpoint or a proof does not hold; the message says what and why."""


@dataclass(frozen=True)
class VerifiedCheckpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    issued_at: str
    document: bytes


def http_fetch(base_url: str, timeout: float = 30) -> Fetch:
    base = base_url.rstrip("/")

    def fetch(path: str) -> bytes:
        try:
            with urllib.request.urlopen(base + path, timeout=timeout) as response:  # noqa: S310 - the auditor's URL
                body = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(4096).decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("detail", detail)
            except (ValueError, AttributeError):
                pass
            raise LogAuditFailure(f"GET {path}: HTTP {exc.code}: {detail}") from None
        except OSError as exc:
            raise LogAuditFailure(f"GET {path}: {exc}") from None
        if len(body) > MAX_ANSWER_BYTES:
            raise LogAuditFailure(f"GET {path}: the answer is larger than {MAX_ANSWER_BYTES:,} bytes")
        return body

    return fetch


def verify_checkpoint(
    document: bytes, trust_dir: Path, gateway_uid: str, *, chain: bool = True
) -> VerifiedCheckpoint:
    """A LogCheckpoint whose schema and signature hold, signed by the gateway itself, read from its signed
    content only, its certificate chained to the trust store's anchors. `chain`: valid now and not revoked
    too; without (the auditor's own witness file, checked in full when it was written) time and revocation
    are not judged, so that the file outlives the certificate."""
    try:
        root = parse_document(document)
        if etree.QName(root) != etree.QName(ns.ZV, "LogCheckpoint"):
            raise LogAuditFailure(f"not a LogCheckpoint: {etree.QName(root).localname}")
        SchemaRegistry().validate(root)
        signature = verify_document(root)
        verifier = CertificateVerifier(TrustStore.load(trust_dir))
        if chain:
            signer_uid = verifier.verify(signature.certificate, signature.untrusted_chain).uid
        elif verifier.issued_under_an_anchor(signature.certificate, signature.untrusted_chain):
            signer_uid = subject_uid(signature.certificate)
        else:
            raise LogAuditFailure(
                "the checkpoint's certificate was not issued under the trust store's anchors"
            )
    except Rejection as rejection:
        raise LogAuditFailure(
            f"the checkpoint does not verify: {rejection.code}: {rejection.message}"
        ) from None
    signed = signature.signed_root
    origin = signed.findtext("zv:Body/zv:Origin", namespaces=ns.NSMAP)
    if signer_uid != gateway_uid or origin != gateway_uid:
        raise LogAuditFailure(
            f"the checkpoint is signed by {signer_uid} for the log {origin!r}, "
            f"not by the gateway {gateway_uid}"
        )
    return VerifiedCheckpoint(
        origin,
        int(signed.findtext("zv:Body/zv:TreeSize", namespaces=ns.NSMAP)),
        bytes.fromhex(signed.findtext("zv:Body/zv:RootHash", namespaces=ns.NSMAP)),
        signed.findtext("zv:Header/zv:SentAt", namespaces=ns.NSMAP),
        document,
    )


def latest_checkpoint(fetch: Fetch, trust_dir: Path, gateway_uid: str) -> VerifiedCheckpoint:
    return verify_checkpoint(fetch("/api/v1/log/checkpoints/latest"), trust_dir, gateway_uid)


def check_extends(fetch: Fetch, older: VerifiedCheckpoint, newer: VerifiedCheckpoint) -> str:
    """That `newer` extends `older` (a consistency proof, verified here); raises LogAuditFailure if not."""
    if newer.tree_size < older.tree_size:
        raise LogAuditFailure(
            f"the log shrank: {older.tree_size} entries signed at {older.issued_at}, "
            f"now {newer.tree_size} signed at {newer.issued_at}"
        )
    if newer.tree_size == older.tree_size:
        if newer.root_hash != older.root_hash:
            raise LogAuditFailure(
                f"two different logs of size {newer.tree_size} are signed: the log was rewritten"
            )
        return f"unchanged since {older.issued_at} ({newer.tree_size} entries)"
    answer = _json(fetch(f"/api/v1/log/consistency?first={older.tree_size}&second={newer.tree_size}"))
    path = _hashes(answer.get("consistency_path"))
    if not merkle.verify_consistency(
        older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, path
    ):
        raise LogAuditFailure(
            f"the checkpoint of {newer.tree_size} entries ({newer.issued_at}) does not extend the one of "
            f"{older.tree_size} ({older.issued_at}): the log was rewritten"
        )
    return f"extends the checkpoint of {older.tree_size} entries signed at {older.issued_at}"


def check_entries(fetch: Fetch, checkpoint: VerifiedCheckpoint) -> dict[str, int]:
    """Download every entry up to the checkpoint's size and rebuild its root; counts by kind."""
    leaves, kinds = [], {}
    for start in range(0, checkpoint.tree_size, PAGE):
        end = min(start + PAGE, checkpoint.tree_size)
        page = _json(fetch(f"/api/v1/log/entries?start={start}&end={end}")).get("entries")
        if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
            raise LogAuditFailure(f"entries {start}..{end - 1}: not a list of entries")
        if [item.get("index") for item in page] != list(range(start, end)):
            raise LogAuditFailure(f"entries {start}..{end - 1}: the gateway returned another range")
        for item in page:
            entry = item.get("entry")
            if not isinstance(entry, str):
                raise LogAuditFailure(f"entry {item['index']}: not a text")
            leaf = merkle.leaf_hash(entry.encode("utf-8"))
            if item.get("leaf_hash") != leaf.hex():
                raise LogAuditFailure(f"entry {item['index']}: its leaf hash is not the hash of its text")
            kind = entry.split(" ")[1] if entry.startswith(entries.VERSION + " ") else "unknown"
            kinds[kind] = kinds.get(kind, 0) + 1
            leaves.append(leaf)
    if merkle.root_from_leaves(leaves) != checkpoint.root_hash:
        raise LogAuditFailure(
            f"the entries do not hash to the root signed for {checkpoint.tree_size} entries"
        )
    return kinds


def held_document(document: bytes) -> Held:
    """The entry of a document the gateway gave its holder, and its key (gateway.services.transparency)."""
    try:
        return held(document)
    except Rejection as rejection:
        raise LogAuditFailure(f"not a readable document: {rejection.message}") from None
    except ValueError as exc:
        raise LogAuditFailure(f"the receipt's SubmissionSha256: {exc}") from None


def prove(fetch: Fetch, document: bytes, checkpoint: VerifiedCheckpoint) -> tuple[str, int]:
    """That the document's entry is in the checkpoint's tree: (entry, index); LogAuditFailure if not."""
    holding = held_document(document)
    if not holding.receipt_id and not holding.appeal_id:
        raise LogAuditFailure("the log holds receipts and documents about appeals; this names neither")
    leaf = holding.leaf_hash
    query = {"leaf_hash": leaf.hex(), "tree_size": checkpoint.tree_size}
    query.update(
        {k: v for k, v in (("receipt_id", holding.receipt_id), ("appeal_id", holding.appeal_id)) if v}
    )
    answer = _json(fetch(f"/api/v1/log/proof?{urllib.parse.urlencode(query)}"))
    index = answer.get("leaf_index")
    if not isinstance(index, int) or not merkle.verify_inclusion(
        leaf, index, checkpoint.tree_size, _hashes(answer.get("audit_path")), checkpoint.root_hash
    ):
        raise LogAuditFailure(
            f"the proof does not lead to the root signed for {checkpoint.tree_size} entries"
        )
    return holding.entry, index


# --- the witness state ----------------------------------------------------------------------------------


def load_state(path: Path, trust_dir: Path, gateway_uid: str) -> VerifiedCheckpoint | None:
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        document = base64.b64decode(saved["checkpoint"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise LogAuditFailure(f"{path}: not a witness state this command wrote ({exc})") from None
    return verify_checkpoint(document, trust_dir, gateway_uid, chain=False)


def save_state(path: Path, checkpoint: VerifiedCheckpoint) -> None:
    state = {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "issued_at": checkpoint.issued_at,
        "checkpoint": base64.b64encode(checkpoint.document).decode("ascii"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def _json(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        raise LogAuditFailure("the gateway's answer is not JSON") from None
    if not isinstance(value, dict):
        raise LogAuditFailure("the gateway's answer is not a JSON object")
    return value


def _hashes(values: object) -> list[bytes]:
    if not isinstance(values, list):
        raise LogAuditFailure("the proof is not a list of hashes")
    try:
        return [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise LogAuditFailure("the proof holds something other than hex hashes") from None
