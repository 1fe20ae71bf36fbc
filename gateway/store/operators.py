"""Operator accounts of the web console (gateway.interfaces.web.console): a name and a password hash.

Passwords are never stored: `password_hash` is werkzeug's salted scrypt hash (gateway.services.operators).
`sessions_valid_after` ends every console session begun before it (logout, a new password): the console's
session cookie is signed but held by the browser, so the server side needs its own line to revoke it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class Operator(Base):
    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sessions_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # wrong passwords in a row since the last good login, and the lockout they earned (migration 0015)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
