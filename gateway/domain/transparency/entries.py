"""What one entry of the transparency log says, in a form its holder can rebuild with standard tools.

An entry is one line of ASCII. The party that holds the signed document the gateway gave it (a sender its
Receipt, a system a StatusUpdate) rebuilds the entry from those bytes alone, and its leaf hash with
`(printf '\\0'; printf '%s' "$ENTRY") | sha256sum`, then asks the gateway for the proof that the leaf is in a
signed checkpoint:

    zvarot-log/1 received <SubmissionSha256 of the receipt> <SHA-256 of the receipt's bytes>
    zvarot-log/1 sent <SHA-256 of the document's bytes>

"received": a submission and the receipt answering it (accepted or rejected); the receipt names the
submission's SHA-256, so the submitted bytes are bound too. "sent": a document the gateway issued to a system
(StatusUpdates). The version prefix lets a later format sit beside this one.
"""

from __future__ import annotations

import hashlib
import re

VERSION = "zvarot-log/1"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def received(submission_sha256: str, receipt: bytes) -> str:
    if not _HEX64.fullmatch(submission_sha256):
        raise ValueError(f"not a lowercase hex SHA-256: {submission_sha256!r}")
    return f"{VERSION} received {submission_sha256} {hashlib.sha256(receipt).hexdigest()}"


def sent(document: bytes) -> str:
    return f"{VERSION} sent {hashlib.sha256(document).hexdigest()}"
