"""SOAP push to an agency DMS with zeep: the DMS's `ReceiveStatusUpdate` operation, whose contract is
adapters/wsdl/zvarot-dms-status-1.wsdl (adapters.dms_stub implements it).

- The system's endpoint URL is its SOAP service address; the WSDL is read from `<endpoint>?wsdl` (or from
  the endpoint itself if it already ends in `?wsdl`). Calls always go to the registered endpoint, whatever
  address the WSDL announces, so that a WSDL written for another network cannot redirect our pushes.
- One zeep client per endpoint per process, built on first use and kept (a WSDL that cannot be loaded is not
  cached: the next attempt tries again). Restart the worker after a DMS changes its WSDL.
- `document` is the signed StatusUpdate (or, for a system opted in, an official's forwarded document) as
  base64Binary (byte for byte: the signature survives); `messageKey` the row's idempotency key. Any SOAP
  fault, HTTP error, timeout or redirect raises DeliveryError.
- XML from the DMS is parsed without DTDs, entities or network access.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests
import zeep
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

from adapters.errors import DeliveryError
from adapters.http_push import USER_AGENT, _safe

OPERATION = "ReceiveStatusUpdate"


def wsdl_and_address(endpoint: str) -> tuple[str, str]:
    if endpoint.lower().endswith("?wsdl"):
        return endpoint, endpoint[: -len("?wsdl")]
    return f"{endpoint}?wsdl", endpoint


class SoapPushDeliverer:
    needs_endpoint = True

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self._services: dict[str, object] = {}
        self._clients: dict[str, zeep.Client] = {}  # the proxies need their client alive
        self._lock = threading.Lock()

    def _service(self, endpoint: str):
        with self._lock:
            service = self._services.get(endpoint)
            if service is not None:
                return service
            wsdl, address = wsdl_and_address(endpoint)
            if urlsplit(address).scheme not in ("http", "https"):
                raise DeliveryError(f"endpoint {_safe(endpoint)!r} is not an http(s) URL")
            session = requests.Session()
            session.max_redirects = 0  # a redirect raises TooManyRedirects: we never follow one
            session.headers["User-Agent"] = USER_AGENT
            transport = Transport(session=session, timeout=self.timeout, operation_timeout=self.timeout)
            settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            try:
                client = zeep.Client(wsdl, transport=transport, settings=settings)
            except (requests.RequestException, ZeepError, OSError) as exc:
                raise DeliveryError(f"cannot load the WSDL {_safe(wsdl)}: {_describe(exc)}") from None
            binding = next(
                (name for name, b in client.wsdl.bindings.items() if OPERATION in b.all()),
                None,
            )
            if binding is None:
                raise DeliveryError(f"the WSDL {_safe(wsdl)} has no {OPERATION} operation")
            service = client.create_service(binding, address)
            self._clients[endpoint] = client
            self._services[endpoint] = service
            return service

    def close(self) -> None:
        """Close the HTTP sessions of the cached clients (the worker calls this when it stops)."""
        with self._lock:
            for client in self._clients.values():
                client.transport.session.close()
            self._clients.clear()
            self._services.clear()

    def deliver(self, recipient_endpoint: str, document: bytes, *, message_key: str) -> None:
        service = self._service(recipient_endpoint)
        where = _safe(wsdl_and_address(recipient_endpoint)[1])
        try:
            getattr(service, OPERATION)(document=document, messageKey=message_key)
        except Fault as fault:
            raise DeliveryError(f"{OPERATION} at {where}: SOAP fault {fault.code}: {fault.message}") from None
        except TransportError as exc:
            raise DeliveryError(f"{OPERATION} at {where}: HTTP {exc.status_code}: {exc.message}") from None
        except requests.Timeout:
            raise DeliveryError(f"{OPERATION} at {where}: no answer within {self.timeout:g}s") from None
        except (requests.RequestException, ZeepError, OSError) as exc:
            raise DeliveryError(f"{OPERATION} at {where}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
