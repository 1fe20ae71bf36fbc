"""What deliverers raise: one exception whose message says, for a person reading `zvarot outbox list`, why
the push failed."""

from __future__ import annotations


class DeliveryError(Exception):
    """A push did not get through (the worker records the message and retries with back-off)."""
