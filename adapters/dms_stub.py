"""The agency DMS reference stub: what a DMS that receives pushes from Zvarot has to do, small enough to read.

    python -m adapters.dms_stub --port 8090 [--fail-first K] [--http] [--record FILE] [--delay S]
                                [--trust-dir DIR] [--gateway-uid zvarot-gateway]

- SOAP 1.1 service `ReceiveStatusUpdate` at `/soap`, its WSDL at `/soap?wsdl`
  (adapters/wsdl/zvarot-dms-status-1.wsdl with this server's address); with `--http` also plain
  `POST /status-updates` of the signed XML (what adapters.http_push sends).
- De-duplicates by (AppealId, EventSeq) read from the document: a repeat is answered `duplicate` (a success
  for the sender) and not processed again. The citizen's system also receives the officials' own signed
  `AppealReply` and `AppealStatusChange` documents, de-duplicated by (SenderSystem, MessageId). With
  `--record FILE` the ids already received are read back at start, so a restarted stub still recognises
  repeats.
- `--fail-first K`: the first K calls get HTTP 500 (a SOAP fault on /soap), to exercise the sender's retries.
- `--delay S`: every call takes S seconds longer (to interrupt a sender mid-run in tests).
- `--trust-dir DIR`: verify each document's signature and certificate chain (CRLs included) against that
  trust store, require the gateway's UID as signer, and read the ids from the signed content only.
- `--record FILE`: one JSON line per call: at, via (soap|http), outcome (accepted|duplicate|failed|rejected),
  appeal_id, event_seq, message_id, message_key, error.
- `--port 0` takes a free port; the first line on stdout is always `DMS stub listening on http://HOST:PORT`.

`send_reply()` sends a signed AppealReply back to the gateway, as a DMS does once an official has answered.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
DMS_NS = "urn:zvarot:dms:1"
ZV = "urn:zvarot:1"
WSDL_FILE = Path(__file__).resolve().parent / "wsdl" / "zvarot-dms-status-1.wsdl"
WSDL_PLACEHOLDER = "http://dms.example/zvarot/status"
MAX_BODY = 20 * 1024 * 1024

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=True
)


# An official's own documents about an appeal, which the gateway forwards to the citizen's system as signed.
FORWARDED_FOR_THE_CITIZEN = ("AppealReply", "AppealStatusChange")


def _seen_key(entry: dict) -> tuple[str, int | str]:
    """(AppealId, EventSeq) for a StatusUpdate; (SenderSystem, "doc:" + MessageId) for a forwarded document
    (a sender's MessageIds are unique to it, as the gateway's own idempotency key is)."""
    if entry.get("document_type", "StatusUpdate") == "StatusUpdate":
        return entry["appeal_id"], entry["event_seq"]
    return entry["sender_system"], f"doc:{entry['message_id']}"


class _Request(Request):
    max_content_length = MAX_BODY  # a larger body is answered 413 before it is read


class Refused(Exception):
    """The request is not a status update we accept (a client error: retrying will not help)."""


def _parse(data: bytes, what: str) -> etree._Element:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Refused(f"{what} is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise Refused(f"{what} carries a DOCTYPE")
    return root


class DmsStub:
    """The WSGI application."""

    def __init__(
        self,
        *,
        fail_first: int = 0,
        accept_http: bool = False,
        record: Path | None = None,
        delay: float = 0.0,
        trust_dir: Path | None = None,
        gateway_uid: str = "zvarot-gateway",
    ):
        self.fail_first = fail_first
        self.accept_http = accept_http
        self.record_path = record
        self.delay = delay
        self.gateway_uid = gateway_uid
        self._lock = threading.Lock()
        self._calls = 0
        self.seen: set[tuple[str, int | str]] = set()
        self._verifier = None
        if trust_dir is not None:
            from gateway.trust.chain import CertificateVerifier
            from gateway.trust.store import TrustStore

            self._verifier = CertificateVerifier(TrustStore.load(trust_dir))
        if record is not None and record.exists():
            for line in record.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                if entry.get("outcome") == "accepted":
                    self.seen.add(_seen_key(entry))

    # --- WSGI ----------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = _Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if request.method == "GET" and path in ("/soap", "/") and "wsdl" in {k.lower() for k in request.args}:
            return Response(self.wsdl(request.host_url.rstrip("/") + "/soap"), content_type="text/xml")
        if request.method == "GET" and path == "/healthz":
            return Response("ok\n", content_type="text/plain")
        if request.method == "POST" and path == "/soap":
            return self.soap(request)
        if request.method == "POST" and path == "/status-updates" and self.accept_http:
            return self.plain_http(request)
        return Response("not found\n", status=404, content_type="text/plain")

    @staticmethod
    def wsdl(address: str) -> str:
        return WSDL_FILE.read_text(encoding="utf-8").replace(
            WSDL_PLACEHOLDER, escape(address, {'"': "&quot;"})
        )

    # --- the two ways in -----------------------------------------------------------------------------------

    def soap(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)
        if self._should_fail():
            self._write({"via": "soap", "outcome": "failed", "error": "simulated failure"})
            return _fault("soap:Server", "simulated failure (--fail-first)")
        try:
            envelope = _parse(request.get_data(cache=False), "the SOAP envelope")
            operation = envelope.find(f"{{{SOAP_ENV}}}Body/{{{DMS_NS}}}ReceiveStatusUpdate")
            if operation is None:
                raise Refused("the SOAP body holds no ReceiveStatusUpdate")
            encoded = operation.findtext(f"{{{DMS_NS}}}document") or ""
            try:
                document = base64.b64decode(encoded, validate=False)
            except (binascii.Error, ValueError):
                raise Refused("document is not base64") from None
            key = operation.findtext(f"{{{DMS_NS}}}messageKey")
            outcome = self.receive(document, via="soap", message_key=key)
        except Refused as exc:
            self._write({"via": "soap", "outcome": "rejected", "error": str(exc)})
            return _fault("soap:Client", str(exc))
        body = (
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
            f'<ReceiveStatusUpdateResponse xmlns="{DMS_NS}"><outcome>{outcome}</outcome>'
            "</ReceiveStatusUpdateResponse></soap:Body></soap:Envelope>"
        )
        return Response(body, content_type="text/xml; charset=utf-8")

    def plain_http(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)
        if self._should_fail():
            self._write({"via": "http", "outcome": "failed", "error": "simulated failure"})
            return Response("simulated failure (--fail-first)\n", status=500, content_type="text/plain")
        try:
            outcome = self.receive(
                request.get_data(cache=False),
                via="http",
                message_key=request.headers.get("Zvarot-Message-Key"),
            )
        except Refused as exc:
            self._write({"via": "http", "outcome": "rejected", "error": str(exc)})
            return Response(json.dumps({"error": str(exc)}), status=400, content_type="application/json")
        return Response(json.dumps({"outcome": outcome}), content_type="application/json")

    # --- what a DMS does with a status update ---------------------------------------------------------------

    def receive(self, document: bytes, *, via: str, message_key: str | None) -> str:
        """Check, de-duplicate and record one StatusUpdate, or an official's document forwarded for the
        citizen; returns accepted | duplicate."""
        kind = etree.QName(_parse(document, "the document")).localname
        if kind not in ("StatusUpdate", *FORWARDED_FOR_THE_CITIZEN):
            raise Refused(f"expected a StatusUpdate, got {kind}")
        root = self._signed_content(document, by_gateway=kind == "StatusUpdate")
        appeal_id = root.findtext(f"{{{ZV}}}Body/{{{ZV}}}AppealId")
        if kind == "StatusUpdate":
            seq_text = root.findtext(f"{{{ZV}}}Body/{{{ZV}}}EventSeq")
            if not appeal_id or not (seq_text or "").strip().isdigit():
                raise Refused("the StatusUpdate has no AppealId or EventSeq")
            entry = {"document_type": kind, "appeal_id": appeal_id, "event_seq": int(seq_text)}
        else:
            if not appeal_id:
                raise Refused(f"the {kind} has no AppealId")
            entry = {"document_type": kind, "appeal_id": appeal_id, "event_seq": None}
        entry["sender_system"] = root.findtext(f"{{{ZV}}}Header/{{{ZV}}}SenderSystem")
        key = _seen_key({**entry, "message_id": root.findtext(f"{{{ZV}}}Header/{{{ZV}}}MessageId")})
        with self._lock:
            outcome = "duplicate" if key in self.seen else "accepted"
            self.seen.add(key)
            self._write_locked(
                {
                    "via": via,
                    "outcome": outcome,
                    **entry,
                    "message_id": root.findtext(f"{{{ZV}}}Header/{{{ZV}}}MessageId"),
                    "message_key": message_key,
                    "status": root.findtext(f"{{{ZV}}}Body/{{{ZV}}}Status"),
                }
            )
        return outcome

    def _signed_content(self, document: bytes, *, by_gateway: bool = True) -> etree._Element:
        root = _parse(document, "the document")
        if self._verifier is None:
            return root
        from gateway.errors import Rejection
        from gateway.xml.signatures import verify_document

        try:
            signature = verify_document(root)
            signer = self._verifier.verify(signature.certificate, signature.untrusted_chain)
        except Rejection as exc:
            raise Refused(f"{exc.code}: {exc.message}") from None
        if by_gateway and signer.uid != self.gateway_uid:
            raise Refused(f"signed by {signer.uid!r}, not by the gateway {self.gateway_uid!r}")
        return signature.signed_root

    # --- bookkeeping ---------------------------------------------------------------------------------------

    def _should_fail(self) -> bool:
        with self._lock:
            self._calls += 1
            return self._calls <= self.fail_first

    def _write(self, entry: dict) -> None:
        with self._lock:
            self._write_locked(entry)

    def _write_locked(self, entry: dict) -> None:
        if self.record_path is None:
            return
        entry = {"at": datetime.now(UTC).isoformat(), **entry}
        with self.record_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _fault(code: str, message: str) -> Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    )
    return Response(body, status=500, content_type="text/xml; charset=utf-8")


# --- replying to the gateway --------------------------------------------------------------------------------


def send_reply(
    gateway_url: str,
    key: str | Path,
    cert: str | Path,
    appeal_id: str,
    official: str,
    *,
    sender_system: str = "sys-dms-housing",
    text: str = "Your appeal has been considered; the answer is attached to this reply.",
    chain: tuple[str | Path, ...] = (),
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """Sign an AppealReply with the official's personal key and certificate (`key`, `cert`, intermediates in
    `chain`) and submit it to the gateway as `sender_system`. Returns the HTTP status and the signed
    receipt."""
    from gateway.xml.signatures import Signer

    root = etree.Element(f"{{{ZV}}}AppealReply", nsmap={None: ZV})
    header = etree.SubElement(root, f"{{{ZV}}}Header")
    etree.SubElement(header, f"{{{ZV}}}MessageId").text = str(uuid.uuid4())
    etree.SubElement(header, f"{{{ZV}}}SenderSystem").text = sender_system
    etree.SubElement(header, f"{{{ZV}}}SentAt").text = datetime.now(UTC).isoformat(timespec="seconds")
    body = etree.SubElement(root, f"{{{ZV}}}Body")
    etree.SubElement(body, f"{{{ZV}}}AppealId").text = appeal_id
    etree.SubElement(body, f"{{{ZV}}}Official").text = official
    etree.SubElement(body, f"{{{ZV}}}Text").text = text
    data = Signer.from_files(key, [cert, *chain]).sign_bytes(root)
    request = urllib.request.Request(  # noqa: S310 - the operator's gateway URL, http(s)
        f"{gateway_url.rstrip('/')}/api/v1/messages",
        data=data,
        method="POST",
        headers={"Content-Type": "application/xml"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- running it ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m adapters.dms_stub", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="0: any free port")
    parser.add_argument("--fail-first", type=int, default=0, metavar="K", help="fail the first K calls")
    parser.add_argument("--http", action="store_true", help="also accept POST /status-updates")
    parser.add_argument("--record", type=Path, default=None, metavar="FILE", help="JSON lines of every call")
    parser.add_argument("--delay", type=float, default=0.0, metavar="S", help="answer each call S s later")
    parser.add_argument("--trust-dir", type=Path, default=None, help="verify signatures against this store")
    parser.add_argument("--gateway-uid", default="zvarot-gateway")
    args = parser.parse_args(argv)
    app = DmsStub(
        fail_first=args.fail_first,
        accept_http=args.http,
        record=args.record,
        delay=args.delay,
        trust_dir=args.trust_dir,
        gateway_uid=args.gateway_uid,
    )
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"DMS stub listening on http://{args.host}:{server.server_port}", flush=True)
    print(
        f"  SOAP: http://{args.host}:{server.server_port}/soap (WSDL at ?wsdl)"
        + (f"; HTTP: http://{args.host}:{server.server_port}/status-updates" if args.http else ""),
        flush=True,
    )

    def _stop(_signum, _frame) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
