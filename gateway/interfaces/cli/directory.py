"""`zvarot directory import|show`: the operator's way in and out of the directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.domain.directory.model import DirectorySnapshot, DirectoryUpdateData
from gateway.errors import Rejection
from gateway.ingest.directory_xml import read_directory_update
from gateway.trust.chain import CertificateVerifier, VerifiedSigner
from gateway.trust.store import TrustStore
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.schemas import SchemaRegistry, document_type
from gateway.xml.signatures import verify_document


@dataclass(frozen=True)
class UpdateFile:
    update: DirectoryUpdateData
    signer: VerifiedSigner | None  # None: the file is not signed


def read_update_file(data: bytes, trust_dir: Path) -> UpdateFile:
    """Parse, validate and (if signed) verify a DirectoryUpdate file; raises Rejection.

    A signed file is read from its signed content only, after the signature and the signer's certificate
    (chain to the trust store, validity, CRLs) have been checked. An unsigned file is accepted: the operator
    who runs the command vouches for it.
    """
    root = parse_document(data)
    kind = document_type(root)
    if kind != "DirectoryUpdate":
        raise Rejection("unknown-type", f"expected a DirectoryUpdate, got {kind}")
    SchemaRegistry().validate(root)
    if root.find(ns.ds("Signature")) is None:
        return UpdateFile(read_directory_update(root), None)
    signature = verify_document(root)
    signer = CertificateVerifier(TrustStore.load(trust_dir)).verify(
        signature.certificate, signature.untrusted_chain
    )
    return UpdateFile(read_directory_update(signature.signed_root), signer)


def render_tree(directory: DirectorySnapshot, with_officials: bool = False) -> list[str]:
    """The org tree, one unit per line with its head below it (and, if asked, every official in post)."""
    lines: list[str] = []

    def by_name(unit_ids) -> list[str]:
        return sorted(unit_ids, key=lambda u: (directory.units[u].name, u))

    def person(official_id: str) -> str:
        o = directory.officials[official_id]
        return f"{o.name}, {o.post_title} ({o.id})"

    def topics(official_id: str) -> str:
        return ": " + (", ".join(sorted(directory.officials[official_id].topics)) or "-")

    def show(unit_id: str, depth: int, seen: set[str]) -> None:
        if unit_id in seen:  # a damaged tree must not loop
            return
        seen.add(unit_id)
        unit = directory.units[unit_id]
        pad = "    " * depth
        kind = f", {unit.kind}" if unit.kind else ""
        lines.append(f"{pad}{unit.name} [{unit.id}{kind}]")
        heads = directory.head_of(unit_id)
        if not heads:
            lines.append(f"{pad}  head: (vacant)")
        for head in heads:
            lines.append(f"{pad}  head: {person(head)}{topics(head) if with_officials else ''}")
        if with_officials:
            for official_id in directory.members.get(unit_id, ()):
                if official_id not in heads:
                    lines.append(f"{pad}  - {person(official_id)}{topics(official_id)}")
        for child in by_name(directory.children.get(unit_id, ())):
            show(child, depth + 1, seen)

    seen: set[str] = set()
    roots = [
        u.id for u in directory.units.values() if u.parent_id is None or u.parent_id not in directory.units
    ]
    for root in by_name(roots):
        show(root, 0, seen)
    in_post = sum(1 for o in directory.officials.values() if o.current)
    lines.append(f"{len(directory.units)} org units, {in_post} officials in post")
    return lines
