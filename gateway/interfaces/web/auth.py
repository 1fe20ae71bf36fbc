"""The console's session security: the Flask secret key, cookie flags, CSRF tokens, the idle timeout.

- The session is Flask's signed cookie (HMAC with the secret key), HttpOnly, SameSite=Lax, Secure when
  ZVAROT_SECURE_COOKIES is set, limited to the /console path, and no longer than the idle timeout.
- The secret key is ZVAROT_SECRET_KEY, or a random key generated on first use into <ZVAROT_HOME>/secret_key
  with mode 0600 (written under a temporary name and linked into place, so that several server workers
  starting at once agree on one key). It is never in git: var/ is ignored.
- Every POST carries the session's CSRF token in a hidden field, compared in constant time.
- A session idle for ZVAROT_CONSOLE_SESSION_MINUTES ends; logging out ends all of the operator's sessions on
  the server side too (gateway.services.operators.end_sessions), since a cookie cannot be recalled.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, session

from gateway.config import Settings

log = logging.getLogger("zvarot.console")

CSRF_FIELD = "csrf_token"
COOKIE_NAME = "zvarot_console"


def _read_key(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it to have a new key generated")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users; it should have mode 0600", path)
    return key


def secret_key(settings: Settings) -> str:
    """ZVAROT_SECRET_KEY, or the key in <home>/secret_key, generated there on first use."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_path
    if path.exists():
        return _read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # atomic; fails if another process was first, and then its key is used
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return _read_key(path)


def configure(app: Flask, settings: Settings) -> None:
    app.secret_key = secret_key(settings)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.console_session_minutes),
    )


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_valid(submitted: str | None) -> bool:
    expected = session.get("csrf")
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def start_session(operator_id: int) -> None:
    """A fresh session for a logged-in operator: nothing of the anonymous one is kept (no fixation)."""
    session.clear()
    session.permanent = True
    at = time.time()
    session.update(operator=operator_id, login_at=at, seen=at, csrf=secrets.token_urlsafe(32))


def idle_expired(settings: Settings) -> bool:
    seen = session.get("seen")
    return not isinstance(seen, int | float) or time.time() - seen > settings.console_session_minutes * 60


def touch() -> None:
    session["seen"] = time.time()
