"""HTTP push: POST the signed StatusUpdate (or forwarded official's document), verbatim, to the system's URL.

- `Content-Type: application/xml`; `Zvarot-Message-Key: <appeal id>:<event seq>:<recipient>[:<type>]`, the
  same on every attempt of one outbox row, so that the receiver can drop repeats (delivery is at-least-once).
- Any 2xx answer means delivered; anything else (3xx included: redirects are never followed, the operator
  sets the final URL), a timeout or a connection error raises DeliveryError with what happened.
- http and https (the system's certificate checked against the default CA store); credentials in the URL
  (https://user:pass@host/…) are sent as HTTP Basic and never appear in error messages.
"""

from __future__ import annotations

import base64
import http.client
import ssl
from urllib.parse import unquote, urlsplit

from adapters.errors import DeliveryError

USER_AGENT = "zvarot-delivery/1"
MAX_ERROR_BODY = 300


class HttpPushDeliverer:
    needs_endpoint = True

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self._tls = ssl.create_default_context()

    def deliver(self, recipient_endpoint: str, document: bytes, *, message_key: str) -> None:
        url = urlsplit(recipient_endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise DeliveryError(f"endpoint {_safe(recipient_endpoint)!r} is not an http(s) URL")
        where = f"{url.scheme}://{url.hostname}{':' + str(url.port) if url.port else ''}{url.path or '/'}"
        headers = {
            "Content-Type": "application/xml",
            "Zvarot-Message-Key": message_key,
            "User-Agent": USER_AGENT,
        }
        if url.username:
            credentials = f"{unquote(url.username)}:{unquote(url.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        if url.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.hostname, url.port, timeout=self.timeout, context=self._tls
            )
        else:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        try:
            conn.request("POST", target, body=document, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_ERROR_BODY + 1)
        except TimeoutError:
            raise DeliveryError(f"POST {where}: no answer within {self.timeout:g}s") from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"POST {where}: TLS failed ({exc.reason or exc})") from None
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryError(f"POST {where}: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()
        if 200 <= response.status < 300:
            return
        detail = f"HTTP {response.status} {response.reason}"
        if 300 <= response.status < 400:
            location = response.getheader("Location", "?")
            raise DeliveryError(
                f"POST {where}: {detail} to {_safe(location)}: redirects are not followed; "
                "set the system's endpoint to the final URL"
            )
        text = " ".join(body[:MAX_ERROR_BODY].decode("utf-8", "replace").split())
        raise DeliveryError(f"POST {where}: {detail}{': ' + text if text else ''}")


def _safe(url: str) -> str:
    """The URL without credentials."""
    parts = urlsplit(url)
    if parts.username is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()
