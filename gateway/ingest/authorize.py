"""Authorization: the certificate UID must be allowed to speak for this document (SPEC identity rules)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import Rejection
from gateway.ingest.documents import PERSONALLY_SIGNED, Header
from gateway.store.registry import RegisteredOfficial, RegisteredSystem


@dataclass(frozen=True)
class Authority:
    signer_uid: str
    signer_kind: str  # "system": a seal; "official": a personal signature
    sender: RegisteredSystem


def authorize(
    header: Header,
    signer_uid: str,
    sender: RegisteredSystem | None,
    signer_system: RegisteredSystem | None,
    signer_official: RegisteredOfficial | None,
    named_official: str | None,
) -> Authority:
    if sender is None:
        raise Rejection("signer-not-authorized", f"sender system {header.sender_system!r} is not registered")
    if header.document_type not in sender.document_types:
        raise Rejection(
            "signer-not-authorized", f"system {sender.id!r} is not registered to send {header.document_type}"
        )
    if signer_system is not None:
        if signer_system.id != sender.id:
            raise Rejection(
                "signer-not-authorized",
                f"the document says it is from {sender.id!r} but carries the seal of {signer_system.id!r}",
            )
        if header.document_type in PERSONALLY_SIGNED:
            raise Rejection(
                "signer-not-authorized",
                f"{header.document_type} must be personally signed by "
                f"the official it names, not sealed by a system",
            )
        return Authority(signer_uid, "system", sender)
    if signer_official is not None:
        if not sender.serves.intersection(signer_official.units_up):
            raise Rejection(
                "signer-not-authorized",
                f"official {signer_official.id!r} does not belong to an agency served by {sender.id!r}",
            )
        # A personal signature is the official's own act: on a document that names an official (who acts, and
        # whom the event log records), it must be that official's. Acting for another is for the system's
        # seal, which vouches for its users -- and so is a document that names nobody (an appeal, a review, a
        # directory update): a personal signature there would let any official of the agency rename its head.
        if named_official != signer_official.id:
            said = (
                f"names no official, so it goes under the seal of {sender.id!r},"
                if named_official is None
                else f"names official {named_official!r}"
            )
            raise Rejection(
                "signer-not-authorized",
                f"{header.document_type} {said} but is personally signed by {signer_official.id!r}",
            )
        return Authority(signer_uid, "official", sender)
    raise Rejection(
        "signer-not-authorized",
        f"certificate UID {signer_uid!r} is neither a registered system nor a registered official",
    )
