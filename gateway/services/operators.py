"""Operator accounts of the web console: add, list, remove, change a password, log in, end sessions.

Passwords are hashed with werkzeug's salted scrypt (`generate_password_hash`); only the hash is stored. A
failed login costs the same whether or not the name exists (a dummy hash is checked), so that the answer does
not tell which operator names exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.store.operators import Operator

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_LENGTH = 10


class OperatorError(ValueError):
    """A refused change to the operator accounts (bad name, weak password, a name taken or unknown)."""


@dataclass(frozen=True)
class OperatorInfo:
    id: int
    name: str
    created_at: datetime
    last_login_at: datetime | None


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; they were stored in UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _info(row: Operator) -> OperatorInfo:
    return OperatorInfo(row.id, row.name, _aware(row.created_at), _aware(row.last_login_at))


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no operator has this password")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise OperatorError(
            "an operator name is 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "beginning with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise OperatorError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return password


def add_operator(session: Session, name: str, password: str, now: datetime) -> OperatorInfo:
    """A new operator in the caller's transaction (OperatorError if the name is taken)."""
    row = Operator(
        name=check_name(name),
        password_hash=generate_password_hash(check_password(password)),
        created_at=now,
    )
    if session.scalars(select(Operator.id).where(Operator.name == name)).first() is not None:
        raise OperatorError(f"an operator {name!r} exists already")
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # a concurrent add of the same name
        raise OperatorError(f"an operator {name!r} exists already") from None
    return _info(row)


def set_password(session: Session, name: str, password: str, now: datetime) -> None:
    """A new password; every console session of the operator ends."""
    row = _find(session, name)
    row.password_hash = generate_password_hash(check_password(password))
    row.sessions_valid_after = now


def remove_operator(session: Session, name: str) -> None:
    session.delete(_find(session, name))


def list_operators(session: Session) -> list[OperatorInfo]:
    return [_info(row) for row in session.scalars(select(Operator).order_by(Operator.name))]


def _find(session: Session, name: str) -> Operator:
    row = session.scalars(select(Operator).where(Operator.name == name)).first()
    if row is None:
        raise OperatorError(f"no operator {name!r}")
    return row


def authenticate(session: Session, name: str, password: str, now: datetime) -> OperatorInfo | None:
    """The operator if `password` is theirs (their last login is set to `now`, in the caller's transaction);
    None otherwise, after the same work."""
    row = session.scalars(select(Operator).where(Operator.name == name)).first() if name else None
    if row is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(row.password_hash, password):
        return None
    row.last_login_at = now
    return _info(row)


def session_operator(session: Session, operator_id: int, logged_in_at: datetime) -> OperatorInfo | None:
    """The operator of a console session that began at `logged_in_at`, if the account still exists and its
    sessions have not been ended since."""
    row = session.get(Operator, operator_id)
    if row is None:
        return None
    valid_after = _aware(row.sessions_valid_after)
    if valid_after is not None and logged_in_at <= valid_after:
        return None
    return _info(row)


def end_sessions(session: Session, operator_id: int, now: datetime) -> None:
    """Log the operator out everywhere: sessions begun before `now` are refused from now on."""
    row = session.get(Operator, operator_id)
    if row is not None:
        row.sessions_valid_after = now
