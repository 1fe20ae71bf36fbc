"""Operator accounts of the web console: add, list, remove, change a password, log in, end sessions.

Passwords are hashed with werkzeug's salted scrypt (`generate_password_hash`); only the hash is stored. A
failed login costs the same whether or not the name exists (a dummy hash is checked), so that the answer does
not tell which operator names exist.

Guessing is throttled per account, in the database (so across workers and hosts): after FREE_FAILURES wrong
passwords in a row the account takes no login, not even the right password, for LOCKOUT_FIRST, doubling with
each further failure up to LOCKOUT_MAX. The answer while locked is the same as for a wrong password (it does
not confirm a name); the log says it, and `zvarot operators set-password` unlocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.store.operators import Operator

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_LENGTH = 10
FREE_FAILURES = 5
LOCKOUT_FIRST = timedelta(seconds=30)
LOCKOUT_MAX = timedelta(minutes=15)


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
    row.failed_logins, row.locked_until = 0, None  # the operator's own way back in


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
    """The operator if `password` is theirs and the account is not locked (their last login is set to `now`,
    in the caller's transaction); None otherwise, after the same work. A wrong password counts towards the
    lockout (the module's docstring)."""
    row = session.scalars(select(Operator).where(Operator.name == name)).first() if name else None
    if row is None:
        check_password_hash(_dummy_hash(), password)
        return None
    right = check_password_hash(row.password_hash, password)
    if locked_until(row, now) is not None:
        return None
    if not right:
        row.failed_logins = (row.failed_logins or 0) + 1
        beyond = row.failed_logins - FREE_FAILURES
        if beyond >= 0:
            row.locked_until = now + min(LOCKOUT_FIRST * 2 ** min(beyond, 16), LOCKOUT_MAX)
        return None
    row.last_login_at, row.failed_logins, row.locked_until = now, 0, None
    return _info(row)


def locked_until(row: Operator, now: datetime) -> datetime | None:
    """Until when the account takes no login, if it is locked at `now`."""
    until = _aware(row.locked_until)
    return until if until is not None and now < until else None


def lockout_of(session: Session, name: str, now: datetime) -> datetime | None:
    """For the log: until when `name`'s account is locked, if it exists and is."""
    row = session.scalars(select(Operator).where(Operator.name == name)).first() if name else None
    return None if row is None else locked_until(row, now)


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
