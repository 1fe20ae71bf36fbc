"""Errors of the pure domain core. Callers translate them into the gateway's rejection codes."""

from __future__ import annotations


class DomainRejection(Exception):
    """A command is refused by the rules.

    `code` is one of the SPEC's receipt error codes (the appeal rules use "invalid-transition" and
    "signer-not-authorized"); `message` says why, in words an operator or a DMS vendor can act on.
    """

    def __init__(self, code: str, message: str):
        if not code:
            raise ValueError("a rejection needs a code")
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class InvalidEventLog(ValueError):
    """A stored event log cannot be folded (it does not start with `received`, its seqs are not dense, an
    event lacks the data its kind needs). This is a bug or a damaged database, never a user error."""
