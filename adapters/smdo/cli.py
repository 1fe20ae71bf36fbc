"""python -m adapters.smdo: convert SMDO-style cards to Zvarot documents and back.

    python -m adapters.smdo to-zvarot CARD.xml [--official ID ... | --unit U --topic T] [--appeal AP]
                                               [--sender-system SYS] [-o OUT.xml]
    python -m adapters.smdo from-zvarot DOC.xml [--reg-number N --reg-date YYYY-MM-DD]
                                                [--from-org CODE] [--to-org CODE] [--ref-card CARD-ID]
                                                [--trust-dir DIR] [-o CARD.xml]
    python -m adapters.smdo check CARD.xml

Exit status: 0 written (or valid), 1 the input was refused (the reason on stderr), 2 usage,
3 nothing to write: the input has no counterpart (a delivery notice, a signature refusal, a status update
SMDO has no notice for); what it means is on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date
from pathlib import Path

from lxml import etree

from adapters.smdo.card import (
    Answer,
    Card,
    CardError,
    Letter,
    Party,
    Reference,
    Registration,
    read_card,
    write_card,
)
from adapters.smdo.convert import Addressee, TransportRejection, from_zvarot, to_zvarot
from gateway.errors import Rejection
from gateway.xml.parsing import parse_document

NOTHING = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.smdo", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    to = commands.add_parser("to-zvarot", help="a card -> an unsigned Zvarot document")
    to.add_argument("card", type=Path)
    to.add_argument("-o", "--output", type=Path, default=None, help="default: standard output")
    to.add_argument(
        "--official", action="append", default=[], metavar="ID", help="addressee / acting official"
    )
    to.add_argument("--unit", metavar="ORG-UNIT", help="with --topic: a Letter's addressee")
    to.add_argument("--topic", metavar="TOPIC")
    to.add_argument(
        "--appeal",
        metavar="AP-ID",
        help="the appeal an answer or notice is about (when the card does not say)",
    )
    to.add_argument("--sender-system", metavar="SYS", help="default: the card's Sender/OrgCode")

    back = commands.add_parser("from-zvarot", help="a Zvarot document -> a card")
    back.add_argument("document", type=Path)
    back.add_argument("-o", "--output", type=Path, default=None, help="default: standard output")
    back.add_argument("--reg-number", help="the registration of the Letter/Answer (with --reg-date)")
    back.add_argument("--reg-date", type=date.fromisoformat, help="YYYY-MM-DD")
    back.add_argument(
        "--from-org", metavar="CODE", help="Header/Sender (default: the document's SenderSystem)"
    )
    back.add_argument("--to-org", metavar="CODE", help="Header/Recipient")
    back.add_argument("--ref-card", metavar="CARD-ID", help="a Receipt's notice: the card it answers")
    back.add_argument(
        "--trust-dir", type=Path, help="verify the signature and chain first; read signed content"
    )

    check = commands.add_parser("check", help="read a card and say what it is")
    check.add_argument("card", type=Path)

    args = parser.parse_args(argv)
    try:
        if args.command == "to-zvarot":
            return _to_zvarot(args, parser)
        if args.command == "from-zvarot":
            return _from_zvarot(args, parser)
        card = read_card(_read(args.card))
        print(f"{args.card}: a valid {card.kind} card {card.header.card_id} from {card.header.sender.code}")
        return 0
    except CardError as exc:
        print(f"{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot read or write: {exc}", file=sys.stderr)
        return 1


def _read(path: Path) -> bytes:
    return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()


def _write(path: Path | None, data: bytes) -> None:
    if path is None or str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        path.write_bytes(data)


def _to_zvarot(args, parser: argparse.ArgumentParser) -> int:
    if args.official and (args.unit or args.topic):
        parser.error("give --official, or --unit with --topic, not both")
    if bool(args.unit) != bool(args.topic):
        parser.error("--unit and --topic go together")
    card = read_card(_read(args.card))
    addressee = None
    if args.official:
        addressee = Addressee.official(*args.official)
    elif args.unit:
        addressee = Addressee.unit(args.unit, args.topic)
    if card.kind != "letter" and (len(args.official) > 1 or args.unit):
        parser.error(f"--unit/--topic and several --official address a letter; this is a {card.kind} card")
    if args.appeal:
        card = _about_appeal(card, args.appeal, parser)
    result = to_zvarot(
        card,
        addressee=addressee,
        official=args.official[0] if args.official else None,
        sender_system=args.sender_system,
    )
    if result is None:
        print(
            "a delivery notice: nothing to submit to Zvarot (its outbox already records delivery)",
            file=sys.stderr,
        )
        return NOTHING
    if isinstance(result, TransportRejection):
        print(
            f"signature refused by {card.header.sender.code}: Zvarot {result.code}: {result.message} "
            "(no appeal event; fix the signature or the trust and send again)",
            file=sys.stderr,
        )
        return NOTHING
    _write(args.output, etree.tostring(result, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return 0


def _about_appeal(card: Card, appeal_id: str, parser: argparse.ArgumentParser) -> Card:
    """The card with --appeal as the appeal its reference names (a card naming another one is an error)."""
    content = card.content
    if isinstance(content, Letter):
        parser.error("--appeal is for answers and notices; a letter makes a new appeal")
    name = "in_reply_to" if isinstance(content, Answer) else "reference"
    reference: Reference = getattr(content, name)
    if reference.appeal_id and reference.appeal_id != appeal_id:
        raise CardError(
            "invalid-value", f"the card names appeal {reference.appeal_id}; --appeal says {appeal_id}"
        )
    changed = dataclasses.replace(reference, appeal_id=appeal_id)
    return dataclasses.replace(card, content=dataclasses.replace(content, **{name: changed}))


def _from_zvarot(args, parser: argparse.ArgumentParser) -> int:
    if bool(args.reg_number) != bool(args.reg_date):
        parser.error("--reg-number and --reg-date go together")
    try:
        root = parse_document(_read(args.document))
    except Rejection as exc:
        raise CardError(exc.code, exc.message, line=exc.problems[0].line) from None
    if args.trust_dir:
        root = _verified(root, args.trust_dir)
    registration = Registration(args.reg_number, args.reg_date) if args.reg_number else None
    sender = Party(args.from_org) if args.from_org else None
    recipient = Party(args.to_org) if args.to_org else None
    card = from_zvarot(
        root, registration=registration, ref_card_id=args.ref_card, sender=sender, recipient=recipient
    )
    if card is None:
        event = root.findtext("{urn:zvarot:1}Body/{urn:zvarot:1}Event")
        print(
            f"a StatusUpdate for event {event!r}: SMDO has no notice for it; nothing written", file=sys.stderr
        )
        return NOTHING
    _write(args.output, write_card(card))
    return 0


def _verified(root: etree._Element, trust_dir: Path) -> etree._Element:
    from gateway.trust.chain import CertificateVerifier
    from gateway.trust.store import TrustStore
    from gateway.xml.signatures import verify_document

    try:
        signature = verify_document(root)
        signer = CertificateVerifier(TrustStore.load(trust_dir)).verify(
            signature.certificate, signature.untrusted_chain
        )
    except Rejection as exc:
        raise CardError(exc.code, exc.message) from None
    print(f"signature verified: signed by {signer.uid}", file=sys.stderr)
    return signature.signed_root
