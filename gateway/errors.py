"""The one error a processing step raises to reject a document: a SPEC error code and a message."""

from __future__ import annotations

from dataclasses import dataclass

# SPEC "Receipt": one code per cause.
ERROR_CODES = frozenset(
    {
        "malformed-xml",
        "forbidden-dtd",
        "too-large",
        "unknown-type",
        "schema-invalid",
        "signature-missing",
        "signature-profile",
        "signature-invalid",
        "certificate-untrusted",
        "certificate-expired",
        "certificate-revoked",
        "revocation-unknown",
        "signer-not-authorized",
        "duplicate-conflict",
        "unknown-appeal",
        "unknown-official",
        "unknown-addressee",
        "invalid-transition",
    }
)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    line: int | None = None
    path: str | None = None


class Rejection(Exception):
    """A document is refused; carries one or more problems, the first one names the cause."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        line: int | None = None,
        path: str | None = None,
        more: tuple[Problem, ...] = (),
    ):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        self.problems: tuple[Problem, ...] = (Problem(code, message, line, path), *more)
        super().__init__(f"{code}: {message}")

    @property
    def code(self) -> str:
        return self.problems[0].code

    @property
    def message(self) -> str:
        return self.problems[0].message
