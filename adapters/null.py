"""The do-nothing deliverer, for systems with delivery `none` and for development.

With it the worker marks the row delivered without sending anything: "nothing to push". A system with
delivery `none` reads its status updates through the pull API (GET /api/v1/outbox, then acknowledge), which
records `acked_at` on the row independently of push delivery.
"""

from __future__ import annotations


class NullDeliverer:
    needs_endpoint = False

    def __init__(self, timeout: float = 0.0):
        del timeout

    def deliver(self, recipient_endpoint: str, document: bytes, *, message_key: str) -> None:
        return None
