"""Deliverers by name (ZVAROT_DELIVERERS) and the HTTP deliverer's rules: headers, 2xx only, no redirects,
no credentials in error messages. A tiny WSGI server on loopback plays the receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from adapters.errors import DeliveryError
from adapters.http_push import HttpPushDeliverer
from adapters.null import NullDeliverer
from gateway.config import DEFAULT_DELIVERERS, Settings
from gateway.delivery.registry import DelivererRegistry, DeliveryConfigError, parse_spec


def test_default_spec_names_the_three_kinds():
    assert parse_spec(DEFAULT_DELIVERERS) == {
        "http": "adapters.http_push:HttpPushDeliverer",
        "soap": "adapters.soap_push:SoapPushDeliverer",
        "none": "adapters.null:NullDeliverer",
    }
    registry = DelivererRegistry.from_spec(DEFAULT_DELIVERERS, timeout=7)
    assert registry.kinds == {"http", "soap", "none"}
    assert registry.for_kind("http").timeout == 7
    assert registry.needs_endpoint(registry.for_kind("soap"))
    assert not registry.needs_endpoint(registry.for_kind("none"))
    registry.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("http", "is not <kind>=<module>:<Class>"),
        ("http=adapters.http_push", "is not <kind>=<module>:<Class>"),
        ("http=a:B,http=c:D", "named twice"),
        ("http=adapters.nowhere:X", "cannot import 'adapters.nowhere'"),
        ("http=adapters.http_push:Missing", "has no 'Missing'"),
        ("http=adapters.http_push:USER_AGENT", "is not a class with a deliver() method"),
    ],
)
def test_misconfiguration_is_refused_with_a_reason(spec, message):
    with pytest.raises(DeliveryConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DelivererRegistry.from_spec(spec, timeout=1)


def test_an_unconfigured_kind_says_what_is_configured():
    registry = DelivererRegistry({"none": NullDeliverer()})
    with pytest.raises(LookupError, match=r"no deliverer is configured for delivery 'soap'.*has: none"):
        registry.for_kind("soap")


def test_settings_read_the_delivery_variables(monkeypatch):
    monkeypatch.setenv("ZVAROT_DELIVERERS", "none=adapters.null:NullDeliverer")
    monkeypatch.setenv("ZVAROT_DELIVERY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("ZVAROT_DELIVERY_BACKOFF_BASE", "0.5")
    settings = Settings.from_env()
    assert (settings.deliverers, settings.delivery_max_attempts, settings.delivery_backoff_base) == (
        "none=adapters.null:NullDeliverer",
        3,
        0.5,
    )
    assert Settings().delivery_max_attempts == 8 and Settings().deliverers == DEFAULT_DELIVERERS


# --- the HTTP deliverer against a receiver on loopback ------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[tuple[str, list]]:
    seen: list = []

    def app(environ, start_response):
        request = Request(environ)
        seen.append((request.path, dict(request.headers), request.get_data()))
        if request.path == "/moved":
            response = Response("", status=302, headers={"Location": "http://elsewhere.example/in"})
        elif request.path == "/busy":
            response = Response("try later\n", status=503)
        else:
            response = Response("", status=204)
        return response(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_http_push_posts_the_document_with_its_message_key(receiver):
    url, seen = receiver
    HttpPushDeliverer(timeout=5).deliver(f"{url}/in?x=1", b"<StatusUpdate/>", message_key="ap-1:2:sys-portal")
    [(path, headers, body)] = seen
    assert (path, body) == ("/in", b"<StatusUpdate/>")
    assert headers["Content-Type"] == "application/xml"
    assert headers["Zvarot-Message-Key"] == "ap-1:2:sys-portal"


def test_http_push_fails_on_errors_and_never_follows_redirects(receiver):
    url, seen = receiver
    deliverer = HttpPushDeliverer(timeout=5)
    with pytest.raises(DeliveryError, match=r"HTTP 503 .*: try later"):
        deliverer.deliver(f"{url}/busy", b"<x/>", message_key="k")
    with pytest.raises(DeliveryError, match="redirects are not followed"):
        deliverer.deliver(f"{url}/moved", b"<x/>", message_key="k")
    assert [path for path, _, _ in seen] == ["/busy", "/moved"], "the redirect target was never asked"
    with pytest.raises(DeliveryError, match="not an http"):
        deliverer.deliver("file:///etc/passwd", b"<x/>", message_key="k")


def test_http_push_sends_url_credentials_as_basic_and_never_shows_them(receiver):
    url, seen = receiver
    authed = url.replace("http://", "http://dms:s3cret@")
    HttpPushDeliverer(timeout=5).deliver(f"{authed}/in", b"<x/>", message_key="k")
    assert seen[0][1]["Authorization"] == "Basic ZG1zOnMzY3JldA=="
    with pytest.raises(DeliveryError) as failure:
        HttpPushDeliverer(timeout=5).deliver(f"{authed}/busy", b"<x/>", message_key="k")
    assert "s3cret" not in str(failure.value)
