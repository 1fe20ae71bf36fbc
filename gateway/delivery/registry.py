"""Deliverers by name: "<kind>=<module>:<Class>,…" resolved with importlib, the only place that does so.

A system's `delivery` column (http | soap | none) picks the kind; ZVAROT_DELIVERERS maps each kind to a class,
by default `adapters.http_push:HttpPushDeliverer`, `adapters.soap_push:SoapPushDeliverer` and
`adapters.null:NullDeliverer`. The gateway's code never imports `adapters` (an import-linter contract).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Protocol, runtime_checkable


@runtime_checkable
class Deliverer(Protocol):
    """Delivers one signed document to one system, or raises an exception whose message says why not.

    The class is built once per worker process as `Class(timeout=seconds)` (or `Class()` if it takes no
    timeout); `message_key` is "<appeal id>:<event seq>:<recipient>" (":<document type>" appended for an
    official's document forwarded to the citizen's system), the same for every attempt of a row, for the
    receiver's idempotency. A class may set `needs_endpoint = False` (the do-nothing deliverer does).
    """

    def deliver(self, recipient_endpoint: str, document: bytes, *, message_key: str) -> None: ...


class DeliveryConfigError(ValueError):
    """ZVAROT_DELIVERERS names something that is not a deliverer."""


def parse_spec(spec: str) -> dict[str, str]:
    """ "http=pkg.mod:Class, soap=…" -> {"http": "pkg.mod:Class", …}."""
    targets: dict[str, str] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        kind, sep, target = item.partition("=")
        kind, target = kind.strip(), target.strip()
        if not sep or not kind or ":" not in target:
            raise DeliveryConfigError(f"ZVAROT_DELIVERERS: {item!r} is not <kind>=<module>:<Class>")
        if kind in targets:
            raise DeliveryConfigError(f"ZVAROT_DELIVERERS: kind {kind!r} is named twice")
        targets[kind] = target
    return targets


def resolve(target: str) -> type:
    """ "pkg.mod:Class" -> the class."""
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeliveryConfigError(f"deliverer {target!r}: cannot import {module_name!r} ({exc})") from exc
    found = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise DeliveryConfigError(f"deliverer {target!r}: {module_name!r} has no {attribute!r}")
    if not inspect.isclass(found) or not callable(getattr(found, "deliver", None)):
        raise DeliveryConfigError(f"deliverer {target!r} is not a class with a deliver() method")
    return found


def _build(cls: type, timeout: float) -> Deliverer:
    parameters = inspect.signature(cls).parameters
    if "timeout" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return cls(timeout=timeout)
    return cls()


class DelivererRegistry:
    """One deliverer instance per kind, built at start so that a wrong name fails the worker at once."""

    def __init__(self, deliverers: dict[str, Deliverer]):
        self._deliverers = dict(deliverers)

    @classmethod
    def from_spec(cls, spec: str, *, timeout: float) -> DelivererRegistry:
        return cls({kind: _build(resolve(target), timeout) for kind, target in parse_spec(spec).items()})

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._deliverers)

    def for_kind(self, kind: str) -> Deliverer:
        try:
            return self._deliverers[kind]
        except KeyError:
            configured = ", ".join(sorted(self._deliverers)) or "none"
            raise LookupError(
                f"no deliverer is configured for delivery {kind!r} (ZVAROT_DELIVERERS has: {configured})"
            ) from None

    def close(self) -> None:
        """Let deliverers release what they hold (HTTP sessions): those that have a close() method."""
        for deliverer in self._deliverers.values():
            close = getattr(deliverer, "close", None)
            if callable(close):
                close()

    @staticmethod
    def needs_endpoint(deliverer: Deliverer) -> bool:
        return bool(getattr(deliverer, "needs_endpoint", True))
