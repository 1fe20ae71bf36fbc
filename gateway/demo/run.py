"""`zvarot demo`: one appeal's whole life, driven over HTTP with real signatures from the dev PKI.

appeal (portal) -> forward (ministry DMS) -> more information required -> supplement (portal)
-> in process -> reply (personally signed by the official) -> review (portal)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from gateway.xml import ns
from gateway.xml.signatures import Signer

EXAMPLES = Path(__file__).resolve().parents[2] / "xsd" / "examples"


class DemoClient:
    def __init__(self, base_url: str, pki_dir: Path, say: Callable[[str], None] = print):
        self.base_url = base_url.rstrip("/")
        self.say = say
        manifest = json.loads((pki_dir / "manifest.json").read_text())
        self._identities = {entry["uid"]: entry for entry in manifest["identities"]}
        self._signers: dict[str, Signer] = {}

    def signer(self, uid: str) -> Signer:
        if uid not in self._signers:
            entry = self._identities[uid]
            self._signers[uid] = Signer.from_files(entry["key"], [entry["cert"]])
        return self._signers[uid]

    def document(self, document_type: str, sender: str, **body: str | list[str]) -> etree._Element:
        """The example of `document_type` with a fresh header and the given Body fields replaced."""
        root = etree.fromstring((EXAMPLES / f"{document_type}.xml").read_bytes())
        root.find("zv:Header/zv:MessageId", ns.NSMAP).text = str(uuid.uuid4())
        root.find("zv:Header/zv:SenderSystem", ns.NSMAP).text = sender
        root.find("zv:Header/zv:SentAt", ns.NSMAP).text = datetime.now(UTC).isoformat(timespec="seconds")
        for field, value in body.items():
            elements = root.findall(f"zv:Body/zv:{field}", ns.NSMAP)
            values = value if isinstance(value, list) else [value]
            for element, text in zip(elements, values, strict=False):
                element.text = text
            for extra in elements[len(values) :]:
                extra.getparent().remove(extra)
        return root

    def submit(self, signer_uid: str, root: etree._Element, step: str) -> etree._Element:
        data = self.signer(signer_uid).sign_bytes(root)
        request = urllib.request.Request(  # noqa: S310 - our own gateway, http(s) only
            f"{self.base_url}/api/v1/messages",
            data=data,
            method="POST",
            headers={"Content-Type": "application/xml"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own gateway
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        receipt = etree.fromstring(body)
        outcome = receipt.findtext("zv:Body/zv:Outcome", namespaces=ns.NSMAP)
        codes = [c.text for c in receipt.findall("zv:Body/zv:Errors/zv:Error/zv:Code", ns.NSMAP)]
        self.say(f"  {step:<58} HTTP {status}  {outcome}{'  ' + ', '.join(codes) if codes else ''}")
        if outcome != "accepted":
            message = receipt.findtext("zv:Body/zv:Errors/zv:Error/zv:Message", namespaces=ns.NSMAP)
            raise RuntimeError(f"{step}: {outcome} {codes}: {message}")
        return receipt

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.base_url}{path}", timeout=30) as response:  # noqa: S310
            return json.load(response)


def run_demo(client: DemoClient) -> str:
    """Drive one appeal from submission to review; returns its tracking code."""
    say = client.say
    say("An appeal to the Ministry of Housing on the topic 'housing', through the national portal:")
    receipt = client.submit(
        "sys-portal", client.document("Appeal", "sys-portal"), "Appeal (sealed by sys-portal)"
    )
    appeal = receipt.find("zv:Body/zv:Appeal", ns.NSMAP)
    appeal_id = appeal.findtext("zv:AppealId", namespaces=ns.NSMAP)
    code = appeal.findtext("zv:TrackingCode", namespaces=ns.NSMAP)
    routed = [o.text for o in appeal.findall("zv:RoutedTo/zv:Official", ns.NSMAP)]
    say(
        f"  appeal {appeal_id}, tracking code {code}, routed to {', '.join(routed)}, "
        f"due {appeal.findtext('zv:DueDate', namespaces=ns.NSMAP)}"
    )

    holder = routed[0]
    dms = "sys-dms-housing"
    target = "off-housing-dept-head" if holder != "off-housing-dept-head" else "off-housing-minister"
    client.submit(
        dms,
        client.document("AppealForward", dms, AppealId=appeal_id, FromOfficial=holder, ToOfficial=[target]),
        f"AppealForward {holder} -> {target}",
    )

    def change(status: str, label: str) -> None:
        document = client.document(
            "AppealStatusChange",
            dms,
            AppealId=appeal_id,
            Official=target,
            NewStatus=status,
            NewDueDate=[],
            Reason=[],
        )
        client.submit(dms, document, f"AppealStatusChange: {label}")

    change("in_process", "in process")
    change("more_info_required", "more information required")
    client.submit(
        "sys-portal",
        client.document("AppealSupplement", "sys-portal", AppealId=appeal_id),
        "AppealSupplement from the citizen (back to in process)",
    )
    client.submit(
        target,
        client.document("AppealReply", dms, AppealId=appeal_id, Official=target),
        f"AppealReply (personally signed by {target})",
    )
    client.submit(
        "sys-portal",
        client.document("ReplyReview", "sys-portal", AppealId=appeal_id, Stars="4"),
        "ReplyReview: 4 stars",
    )

    timeline = client.get_json(f"/api/v1/appeals/{code}")
    say("")
    say(f"Timeline of {code} (status {timeline['status']}):")
    for entry in timeline["timeline"]:
        say(f"  {entry['at'][:19]}  {entry['text']}")
    say("")
    say(f"Tracking: {client.base_url}/api/v1/appeals/{code}")
    say(f"Latest signed status update: {client.base_url}/api/v1/appeals/{code}/status.xml")
    return code
