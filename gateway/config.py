"""Settings: one frozen object, read from ZVAROT_* environment variables with safe defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_DELIVERERS = (
    "http=adapters.http_push:HttpPushDeliverer,"
    "soap=adapters.soap_push:SoapPushDeliverer,"
    "none=adapters.null:NullDeliverer"
)


SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")  # the two that keep a WAL database consistent after a crash


def _env(name: str, default: str) -> str:
    return os.environ.get(f"ZVAROT_{name}", default)


def _number(kind: type[int] | type[float], name: str, default: str) -> int | float:
    """ZVAROT_<name> read as a number; a value that is not one names its variable."""
    raw = _env(name, default)
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"ZVAROT_{name}={raw!r}: expected {what}") from None


@dataclass(frozen=True)
class Settings:
    home: Path = Path("var")
    database_url: str = ""  # empty: SQLite (WAL) at <home>/zvarot.db
    # SQLite's PRAGMA synchronous. FULL: every commit is on disk before its receipt is sent (SPEC: "durably
    # committed"), across power loss too. NORMAL gives that up for the last commits before a power loss (not a
    # crash of the process) for a cheaper commit; docs/performance.md#durability-on-sqlite.
    sqlite_synchronous: str = "FULL"
    pki_dir: Path = Path("var/pki")
    trust_dir: Path = Path("var/pki/trust")
    # The gateway's receipt-signing key and certificate; default: the dev PKI's gateway identity.
    receipt_key: Path | None = None
    receipt_cert: Path | None = None
    gateway_uid: str = "zvarot-gateway"
    max_document_bytes: int = 10 * MiB
    max_depth: int = 64
    host: str = "127.0.0.1"
    # The gateway's address as its clients reach it (behind a proxy: the proxy's), e.g. https://zvarot.example.by;
    # the WSDL's service address is built from it. Empty: from each request's own URL (its Host header).
    public_url: str = ""
    port: int = 8080
    workers: int = 2
    # Deadlines: Belarus' law on appeals by default (gateway.domain.appeals.deadlines.DeadlinePolicy).
    reply_days: int = 15
    extension_months: int = 1
    forward_working_days: int = 5
    quiet_period_days: int = 30
    timezone: str = "Europe/Minsk"
    holidays_file: Path | None = None  # CSV "YYYY-MM-DD,name[,working]", merged over Belarus' public holidays
    # Work reports are due (gateway.domain.reports.schedule, docs/reports.md): weekly by the end of this many
    # working days after the week, monthly by this day of the next month, yearly by this day of January.
    report_weekly_grace_working_days: int = 1
    report_monthly_day: int = 5
    report_yearly_day: int = 31
    # The rating method: "name=value,…" overrides of gateway.domain.ratings.policy.RatingPolicy's defaults.
    rating_policy: str = ""
    # Push delivery of the outbox (gateway.delivery, docs/delivery.md). Deliverers are named, never imported
    # by the gateway's code: "<kind>=<module>:<Class>,…" for the kinds a system's `delivery` can take.
    deliverers: str = DEFAULT_DELIVERERS
    delivery_max_attempts: int = 8  # then the row is a dead letter, until the operator requeues it
    delivery_backoff_base: float = 30.0  # seconds before the 2nd attempt; doubles per attempt, ±50 % jitter
    delivery_backoff_cap: float = 6 * 3600.0  # the longest wait between two attempts
    delivery_timeout: float = 30.0  # one attempt (connect and each read)
    delivery_lease: float = 300.0  # a claimed row is the worker's for this long (then due again: a crash)
    worker_poll: float = 2.0  # seconds between polls when nothing is due
    worker_batch: int = 20  # rows claimed at once
    log_interval: float = 30.0  # seconds between a worker's transparency-log checkpoints
    # The web pages and the operator console (gateway.interfaces.web, docs/web.md). The secret key signs the
    # console's session cookie; empty: generated once into <home>/secret_key (mode 0600) and read from there.
    secret_key: str = field(default="", repr=False)
    console_session_minutes: int = 30  # an operator idle this long must log in again
    secure_cookies: bool = False  # mark the session cookie Secure (set it when served behind https)
    # GET /metrics answers from a per-process copy at most this old. Scrape no more often than this: then
    # every answer is newer than the one before, whichever worker gives it, and counters never go back.
    metrics_cache_seconds: float = 15.0
    # When set, GET /metrics asks for `Authorization: Bearer <this>`: the counts say how busy each agency's
    # systems are and which certificates expire when, which an operator may not want public.
    metrics_token: str = field(default="", repr=False)
    # A served request running longer than this ends its worker (a client sending its body slowly or not at
    # all; gateway.interfaces.cli.server.WorkerWatchdog). The SQLite lock wait (30 s) stays below it.
    request_timeout: float = 60.0
    # A served worker busy in requests for at least this fraction of the last quarter second, while another
    # worker was less busy by a quarter of it, asks one client per 0.1 s to connect anew, so that the kernel
    # places it again (ConnectionRebalancer, with 2 workers or more). 0: a worker asks while it is at least as
    # busy as the least busy other (tests); above 1: never.
    rebalance_busy: float = 0.85

    def __post_init__(self) -> None:
        if self.sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(
                f"ZVAROT_SQLITE_SYNCHRONOUS={self.sqlite_synchronous!r}: expected one of "
                f"{', '.join(SQLITE_SYNCHRONOUS)}"
            )
        if self.public_url and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", self.public_url):
            raise ValueError(
                f"ZVAROT_PUBLIC_URL={self.public_url!r}: expected the gateway's base URL, "
                "e.g. https://zvarot.example.by"
            )

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'zvarot.db').resolve()}"

    @property
    def secret_key_path(self) -> Path:
        return self.home / "secret_key"

    @property
    def receipt_key_path(self) -> Path:
        return self.receipt_key or self.pki_dir / "identities" / f"{self.gateway_uid}.key.pem"

    @property
    def receipt_cert_path(self) -> Path:
        return self.receipt_cert or self.pki_dir / "identities" / f"{self.gateway_uid}.pem"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(_env("HOME", "var"))
        pki_dir = Path(_env("PKI_DIR", str(home / "pki")))
        key = _env("RECEIPT_KEY", "")
        cert = _env("RECEIPT_CERT", "")
        return cls(
            home=home,
            database_url=_env("DATABASE_URL", ""),
            sqlite_synchronous=_env("SQLITE_SYNCHRONOUS", "FULL").strip().upper(),
            pki_dir=pki_dir,
            trust_dir=Path(_env("TRUST_DIR", str(pki_dir / "trust"))),
            receipt_key=Path(key) if key else None,
            receipt_cert=Path(cert) if cert else None,
            gateway_uid=_env("GATEWAY_UID", "zvarot-gateway"),
            max_document_bytes=_number(int, "MAX_DOCUMENT_BYTES", str(10 * MiB)),
            max_depth=_number(int, "MAX_DEPTH", "64"),
            host=_env("HOST", "127.0.0.1"),
            public_url=_env("PUBLIC_URL", "").strip().rstrip("/"),
            port=_number(int, "PORT", "8080"),
            workers=_number(int, "WORKERS", "2"),
            reply_days=_number(int, "REPLY_DAYS", "15"),
            extension_months=_number(int, "EXTENSION_MONTHS", "1"),
            forward_working_days=_number(int, "FORWARD_WORKING_DAYS", "5"),
            quiet_period_days=_number(int, "QUIET_PERIOD_DAYS", "30"),
            timezone=_env("TIMEZONE", "Europe/Minsk"),
            holidays_file=Path(_env("HOLIDAYS_FILE", "")) if _env("HOLIDAYS_FILE", "") else None,
            report_weekly_grace_working_days=_number(int, "REPORT_WEEKLY_GRACE_WORKING_DAYS", "1"),
            report_monthly_day=_number(int, "REPORT_MONTHLY_DAY", "5"),
            report_yearly_day=_number(int, "REPORT_YEARLY_DAY", "31"),
            rating_policy=_env("RATING_POLICY", ""),
            deliverers=_env("DELIVERERS", DEFAULT_DELIVERERS),
            delivery_max_attempts=_number(int, "DELIVERY_MAX_ATTEMPTS", "8"),
            delivery_backoff_base=_number(float, "DELIVERY_BACKOFF_BASE", "30"),
            delivery_backoff_cap=_number(float, "DELIVERY_BACKOFF_CAP", str(6 * 3600)),
            delivery_timeout=_number(float, "DELIVERY_TIMEOUT", "30"),
            delivery_lease=_number(float, "DELIVERY_LEASE", "300"),
            worker_poll=_number(float, "WORKER_POLL", "2"),
            worker_batch=_number(int, "WORKER_BATCH", "20"),
            log_interval=_number(float, "LOG_INTERVAL", "30"),
            secret_key=_env("SECRET_KEY", ""),
            console_session_minutes=_number(int, "CONSOLE_SESSION_MINUTES", "30"),
            secure_cookies=_env("SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes", "on"),
            metrics_cache_seconds=_number(float, "METRICS_CACHE_SECONDS", "15"),
            metrics_token=_env("METRICS_TOKEN", ""),
            request_timeout=_number(float, "REQUEST_TIMEOUT", "60"),
            rebalance_busy=_number(float, "REBALANCE_BUSY", "0.85"),
        )
