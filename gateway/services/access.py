"""Bearer tokens of registered systems: random, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.directory import Official, System
from gateway.store.registry import RegisteredSystem, find_official, find_system

TOKEN_PREFIX = "zvt_"  # noqa: S105 - a recognisable prefix, not a secret


def bearer_token(authorization: str | None) -> str | None:
    """The token of an HTTP `Authorization: Bearer <token>` header value (JSON API, SOAP and /metrics)."""
    header = authorization or ""
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def _hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, system_id: str) -> str:
    """A new token for `system_id`, replacing any earlier one; the caller commits and shows it once."""
    system = session.get(System, system_id)
    if system is None:
        raise LookupError(f"no system {system_id!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    system.token_hash = _hash(token)
    return token


def system_for_token(session: Session, token: str | None) -> RegisteredSystem | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    system_id = session.scalars(select(System.id).where(System.token_hash == _hash(token))).first()
    return find_system(session, system_id) if system_id else None


def serves_official(session: Session, system: RegisteredSystem, official_id: str) -> bool:
    official = find_official(session, official_id)
    return official is not None and bool(system.serves.intersection(official.units_up))


class InboxRefused(Exception):
    """Why a caller may not read or acknowledge an official's inbox: `reason` is unauthorized | not-found |
    forbidden (the HTTP and SOAP interfaces each say it in their own way)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def check_inbox_access(session: Session, token: str | None, official_id: str) -> RegisteredSystem:
    """The system behind `token`, if it serves the agency of `official_id`; else InboxRefused."""
    system = system_for_token(session, token)
    if system is None:
        raise InboxRefused("unauthorized", "a valid bearer token of a registered system is required")
    if session.get(Official, official_id) is None:
        raise InboxRefused("not-found", f"no official {official_id}")
    if not serves_official(session, system, official_id):
        raise InboxRefused("forbidden", f"{system.id} does not serve the agency of {official_id}")
    return system
