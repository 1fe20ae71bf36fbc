"""The OpenAPI 3.1 document of every JSON (and XML-over-HTTP) endpoint of the gateway, written by hand.

tests/functional/test_openapi.py checks that it validates, that its paths are exactly the Flask routes under
/api/v1 and /healthz (SOAP's /soap is described by its WSDL, docs/soap.md), and that real responses validate
against the schemas below. A new endpoint is added here, or that test fails.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from gateway.domain.ids import MAX_ROW_NUMBER
from gateway.errors import ERROR_CODES
from gateway.services.inbox import MAX_PAGE as MAX_PULL_PAGE

_REF = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": _REF + name}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict, required: list[str] | None = None, **extra) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": ["string", "null"], "format": "date-time"}
_CURSOR = {"type": "integer", "minimum": 0, "maximum": MAX_ROW_NUMBER}  # ids are INTEGER on PostgreSQL
_WEEK = {"type": "string", "pattern": r"^\d{4}-W\d{2}$", "examples": ["2026-W05"]}
_NAMED = _object({"id": _STR, "name": _STR})
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256, lowercase hex"}

# A pull's page size: taken as asked within 1 to inbox.MAX_PAGE, clamped beyond (not refused).
_PULL_LIMIT = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_NUMBER, "default": 50},
    "description": f"items per page; 0 counts as 1, and more than {MAX_PULL_PAGE} as {MAX_PULL_PAGE}",
}

_PAGE_PARAMS = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "description": "page size (at most 100)",
    },
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_NUMBER, "default": 0},
        "description": "items to skip",
    },
]


def _path_param(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or _STR,
        "description": description,
    }


_OFFICIAL_ID = _path_param("official_id", "an official's id, e.g. off-housing-dept-head")
_TRACKING = _path_param(
    "tracking_code",
    "the citizen's tracking code (case-insensitive)",
    {"type": "string", "examples": ["ABCD-EFGH-IJKL-MNOP-QRST"]},
)
_BEARER = [{"bearer": []}]
_PULL = (
    "Unacknowledged items with a cursor above `after`, in cursor order, then those below it that were never "
    "handed out (committed after a higher one was pulled) or were handed out late in a page that ended above "
    "`after`. `next_after` is the highest cursor returned, never below `after`, and at least `after + 1` "
    "when the page carries a late item; acknowledge a processed page with it. Items come again until "
    "acknowledged."
)

_SCHEMAS: dict = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; `title` is the error code.",
        "properties": {
            "type": _STR,
            "title": _STR,
            "status": _INT,
            "detail": _STR,
            "line": _INT,
            "receipt_id": _NSTR,
        },
        "required": ["type", "title", "status", "detail"],
    },
    "Health": _object({"status": {"const": "ok"}}),
    "ErrorCode": {"enum": sorted(ERROR_CODES)},
    # --- appeals ------------------------------------------------------------------------------------------
    "AppealTimeline": _object(
        {
            "tracking_code": _STR,
            "appeal_id": _STR,
            "status": {
                "enum": [
                    "received",
                    "forwarded",
                    "in_process",
                    "more_info_required",
                    "reply_sent",
                    "closed",
                    "withdrawn",
                    "left_without_consideration",
                ]
            },
            "received_at": _TIME,
            "due_date": {"type": ["string", "null"], "format": "date"},
            "due_date_computation": {"type": "array", "items": _STR},
            "timeliness": {"enum": ["on_time", "overdue", "very_overdue"]},
            "forward_by": {
                "type": ["string", "null"],
                "format": "date",
                "description": "while nobody has acted on it: the day by which it must reach the competent "
                "official (forwarded there, or taken in process)",
            },
            "forward_late": {"type": "boolean"},
            "held_by": {"type": "array", "items": _object({"official": _STR, "name": _STR, "post": _STR})},
            "timeline": {
                "type": "array",
                "items": _object(
                    {
                        "seq": _INT,
                        "event": _STR,
                        "text": _STR,
                        "at": _TIME,
                        "by": {"enum": ["citizen", "official", "system", "gateway"]},
                    }
                ),
            },
        }
    ),
    "InboxPage": _object(
        {
            "official": _STR,
            "items": {
                "type": "array",
                "items": _object(
                    {
                        "cursor": _INT,
                        "appeal_id": _STR,
                        "tracking_code": _STR,
                        "kind": {"enum": ["appeal", "supplement", "review", "withdrawn"]},
                        "event_seq": _INT,
                        "created_at": _TIME,
                        "document": {
                            **_NSTR,
                            "description": "the signed document to act on (XML), null if it is not UTF-8",
                        },
                        "document_base64": {**_NSTR, "description": "the same document, byte for byte"},
                        "status_update": {**_NSTR, "description": "the signed StatusUpdate (XML)"},
                    }
                ),
            },
            "next_after": _INT,
        }
    ),
    "OutboxPage": _object(
        {
            "system": _STR,
            "items": {
                "type": "array",
                "items": _object(
                    {
                        "cursor": _INT,
                        "appeal_id": _STR,
                        "event_seq": _INT,
                        "document_type": _STR,
                        "document": {
                            "type": ["string", "null"],
                            "description": "the signed document as text, or null if it is not UTF-8",
                        },
                        "document_base64": {
                            **_STR,
                            "description": "the signed document, byte for byte (verify these bytes)",
                        },
                    }
                ),
            },
            "next_after": _INT,
        }
    ),
    "Ack": {
        "description": "Either `cursor`: every item handed out up to and including it (an item that became "
        "visible below the cursor after a higher one was pulled is left for the next pull), or `ids`: "
        "exactly these items. Items not the caller's are ignored.",
        "oneOf": [
            _object({"cursor": _CURSOR}),
            _object({"ids": {"type": "array", "items": _CURSOR, "minItems": 1, "maxItems": 1000}}),
        ],
    },
    "InboxAcked": _object(
        {"official": _STR, "acknowledged": _INT, "cursor": _INT, "ids": {"type": "array", "items": _INT}},
        ["official", "acknowledged"],
    ),
    "OutboxAcked": _object(
        {"system": _STR, "acknowledged": _INT, "cursor": _INT, "ids": {"type": "array", "items": _INT}},
        ["system", "acknowledged"],
    ),
    # --- officials and org units ----------------------------------------------------------------------------
    "OfficialSummary": _object(
        {
            "id": _STR,
            "name": _STR,
            "post": _NSTR,
            "in_post": _BOOL,
            "org_unit": _nullable(_NAMED),
            "areas": {"type": "array", "items": _STR},
        }
    ),
    "OfficialPage": _object(
        {
            "total": _INT,
            "limit": _INT,
            "offset": _INT,
            "items": {"type": "array", "items": _ref("OfficialSummary")},
        }
    ),
    "OfficialProfile": _object(
        {
            "id": _STR,
            "name": _STR,
            "in_post": _BOOL,
            "post": _nullable(_object({"id": _STR, "title": _STR, "is_head": _BOOL})),
            "org_unit": _nullable(_object({"id": _STR, "name": _STR, "kind": _NSTR})),
            "reports_to": _nullable(
                _object(
                    {
                        "post": _object({"id": _STR, "title": _STR, "org_unit_id": _STR}),
                        "officials": {"type": "array", "items": _NAMED},
                    }
                )
            ),
            "authority": _NSTR,
            "duties": _NSTR,
            "contacts": _object({"email": _STR, "phone": _STR, "address": _STR}, required=[]),
            "biography": _NSTR,
            "areas": {"type": "array", "items": _STR},
            "memberships": {
                "type": "array",
                "items": _object(
                    {
                        "post_id": _STR,
                        "post_title": _STR,
                        "org_unit_id": _STR,
                        "start_date": _DATE,
                        "end_date": {"type": ["string", "null"], "format": "date"},
                    }
                ),
            },
            "rating": _nullable(_ref("RatingBrief")),
            "reports": _object({"total": _INT, "latest": {"type": "array", "items": _ref("ReportSummary")}}),
            "report_schedule": _ref("ScheduleCounts"),
        }
    ),
    "ScheduleCounts": _object({"on_time": _INT, "late": _INT, "missing": _INT, "pending": _INT}),
    "ReportSchedule": _object(
        {
            "official": _STR,
            "as_of": _TIME,
            "counts": _ref("ScheduleCounts"),
            "items": {
                "type": "array",
                "items": _object(
                    {
                        "kind": {"enum": ["week", "month", "year"]},
                        "period": _STR,
                        "start": _DATE,
                        "end": _DATE,
                        "due": _DATE,
                        "status": {"enum": ["on_time", "late", "missing", "pending"]},
                        "received_at": _NTIME,
                        "report_id": _NSTR,
                    }
                ),
            },
        }
    ),
    "OrgTreeNode": _object(
        {
            "id": _STR,
            "name": _STR,
            "kind": _NSTR,
            "head": {"type": "array", "items": _object({"id": _STR, "name": _STR, "post": _STR})},
            "officials": {**_INT, "description": "officials in post directly in this unit"},
            "children": {"type": "array", "items": _ref("OrgTreeNode")},
        }
    ),
    "OrgTree": _object({"org_units": {"type": "array", "items": _ref("OrgTreeNode")}}),
    "OrgUnit": _object(
        {
            "id": _STR,
            "name": _STR,
            "kind": _NSTR,
            "description": _NSTR,
            "parent": _nullable(_NAMED),
            "path": {"type": "array", "items": _NAMED, "description": "the ancestors, from the top"},
            "children": {"type": "array", "items": _object({"id": _STR, "name": _STR, "kind": _NSTR})},
            "head": _nullable(
                _object(
                    {
                        "post": _object({"id": _STR, "title": _STR}),
                        "officials": {"type": "array", "items": _NAMED},
                    }
                )
            ),
            "posts": {
                "type": "array",
                "items": _object(
                    {
                        "id": _STR,
                        "title": _STR,
                        "reports_to_post_id": _NSTR,
                        "is_head": _BOOL,
                        "officials": {"type": "array", "items": _NAMED},
                    }
                ),
            },
            "officials": {"type": "array", "items": _object({"id": _STR, "name": _STR, "post": _STR})},
        }
    ),
    # --- reports --------------------------------------------------------------------------------------------
    "ReportSummary": _object(
        {
            "id": {"type": "string", "pattern": "^wr-[a-z2-7]{26}$"},
            "official": _NAMED,
            "kind": {"enum": ["week", "month", "year"]},
            "period": {**_STR, "examples": ["2026-W05", "2026-03", "2026"]},
            "start": _DATE,
            "end": _DATE,
            "due": _DATE,
            "on_time": _BOOL,
            "received_at": _TIME,
            "summary": _STR,
            "reviews": _object({"count": _INT, "average_stars": {"type": ["number", "null"]}}),
            "demo": {
                **_BOOL,
                "description": "true: seeded demo history (written on the demo world's first run), not a "
                "signed document",
            },
        }
    ),
    "ReportItem": _object(
        {
            "title": _STR,
            "result": _STR,
            "metric": _object(
                {"name": _STR, "value": {**_STR, "description": "a decimal, as signed"}, "unit": _NSTR}
            ),
        },
        required=["title", "result"],
    ),
    "ReportDetail": {
        "allOf": [
            _ref("ReportSummary"),
            _object(
                {
                    "items": {"type": "array", "items": _ref("ReportItem")},
                    "review_list": {
                        "type": "array",
                        "items": _object(
                            {
                                "stars": {"type": "integer", "minimum": 1, "maximum": 5},
                                "comment": _NSTR,
                                "reviewer_ref": _STR,
                                "received_at": _TIME,
                            }
                        ),
                    },
                }
            ),
        ]
    },
    "ReportPage": _object(
        {
            "total": _INT,
            "limit": _INT,
            "offset": _INT,
            "items": {"type": "array", "items": _ref("ReportSummary")},
        }
    ),
    # --- ratings --------------------------------------------------------------------------------------------
    "Component": {
        "type": "object",
        "properties": {
            "value": {**_NUM, "description": "stars (1–5) or a share (0–1)"},
            "normalised": {"type": "number", "minimum": 0, "maximum": 1},
            "sample": {**_INT, "description": "the observations it rests on"},
        },
        "required": ["value", "normalised", "sample"],
        "additionalProperties": _NUM,
    },
    "Components": _object(
        {
            "reply_stars": _ref("Component"),
            "on_time": _ref("Component"),
            "report_schedule": _ref("Component"),
            "report_stars": _ref("Component"),
        }
    ),
    "RatingBrief": _object(
        {
            "week": _WEEK,
            "status": {"enum": ["ranked", "insufficient-data"]},
            "composite": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "score": {"type": ["number", "null"], "description": "composite × 100, one decimal"},
            "rank": {"type": ["integer", "null"], "minimum": 1},
            "components": _ref("Components"),
        }
    ),
    "RatingEntry": {
        "allOf": [
            _ref("RatingBrief"),
            _object(
                {
                    "official": _object({"id": _STR, "name": _STR, "post": _NSTR}),
                    "org_unit": _nullable(_NAMED),
                }
            ),
        ]
    },
    "WeekRatings": _object(
        {
            "week": _WEEK,
            "as_of": {**_TIME, "description": "the week's end: only what happened before it counts"},
            "computed_at": _TIME,
            "org_unit": _NSTR,
            "officials": _INT,
            "ranking": {"type": "array", "items": _ref("RatingEntry")},
            "insufficient_data": {"type": "array", "items": _ref("RatingEntry")},
            "best": {"type": "array", "items": _ref("RatingEntry")},
            "worst": {"type": "array", "items": _ref("RatingEntry"), "description": "worst first"},
            "method": _object(
                {
                    "policy": {"type": "object", "additionalProperties": _NUM},
                    "formulas": {"type": "object", "additionalProperties": _STR},
                }
            ),
            "demo_history": {
                **_BOOL,
                "description": "true: the database holds the demo history seeded on the demo world's first "
                "run, so the ratings rest on demo data",
            },
        }
    ),
    "OfficialRatings": _object(
        {
            "official": _object({"id": _STR, "name": _STR, "post": _NSTR}),
            "history": {
                "type": "array",
                "items": {"allOf": [_ref("RatingBrief"), _object({"org_unit_id": _NSTR})]},
            },
        }
    ),
    "LogHead": _object(
        {
            "origin": _STR,
            "tree_size": _INT,
            "root_hash": _HASH,
            "issued_at": _TIME,
            "checkpoint": {"type": "string", "description": "the path of the signed LogCheckpoint"},
        }
    ),
    "InclusionProof": _object(
        {
            "leaf_hash": _HASH,
            "leaf_index": _INT,
            "tree_size": _INT,
            "root_hash": _HASH,
            "audit_path": {"type": "array", "items": _HASH},
        }
    ),
    "ConsistencyProof": _object(
        {
            "first": _INT,
            "second": _INT,
            "second_root_hash": _HASH,
            "consistency_path": {"type": "array", "items": _HASH},
        }
    ),
    "LogEntries": _object(
        {
            "entries": {
                "type": "array",
                "items": _object({"index": _INT, "entry": _STR, "leaf_hash": _HASH}),
            }
        }
    ),
}

_XML_RECEIPT = {
    "application/xml": {
        "schema": {"type": "string", "description": "a Receipt signed by the gateway (xsd/zvarot-1.xsd)"}
    }
}
_RECEIPT_HEADERS = {
    "Zvarot-Outcome": {"schema": {"enum": ["accepted", "duplicate", "rejected"]}},
    "Zvarot-Receipt-Id": {"schema": _STR},
}


def _rejected(description: str) -> dict:
    return {
        "description": description,
        "headers": _RECEIPT_HEADERS,
        "content": {**_XML_RECEIPT, "application/problem+json": {"schema": _ref("Problem")}},
    }


_UNAUTHORIZED = _problem("no valid bearer token of a registered system")
_NOT_FOUND = _problem("not found")
_BAD_REQUEST = _problem("a parameter is not valid")

_PATHS: dict = {
    "/healthz": {
        "get": {
            "tags": ["operations"],
            "summary": "Liveness and database",
            "operationId": "healthz",
            "responses": {
                "200": _json(_ref("Health"), "the gateway and its database answer, the schema migrated"),
                "503": _problem("the database cannot be reached, or is not migrated to this version"),
            },
        }
    },
    "/metrics": {
        "get": {
            "tags": ["operations"],
            "summary": "Operational metrics (Prometheus text format)",
            "description": "Documents accepted by type and rejected by error code, appeals, the outbox by "
            "status and its oldest pending row, unacknowledged inbox items, seconds until each CRL's next "
            "update and until the trust anchors, intermediates and receipt certificate expire. Read from "
            "the database at scrape time: every worker answers the same. Open unless the operator set "
            "ZVAROT_METRICS_TOKEN; then `Authorization: Bearer <that token>` is required.",
            "operationId": "metrics",
            "security": [{}, {"bearer": []}],
            "responses": {
                "200": {
                    "description": "the metrics",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "401": _problem("ZVAROT_METRICS_TOKEN is set and the request does not carry it"),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "tags": ["operations"],
            "summary": "This document",
            "operationId": "openapi",
            "responses": {"200": _json({"type": "object"}, "the OpenAPI 3.1 document")},
        }
    },
    "/api/v1/messages": {
        "post": {
            "tags": ["documents"],
            "summary": "Submit a signed document; get a signed Receipt",
            "description": "Every document type of xsd/zvarot-1.xsd, signed under the Zvarot signature "
            "profile. "
            "The receipt is issued only after the document is durably stored. Error codes: "
            + ", ".join(sorted(ERROR_CODES))
            + ".",
            "operationId": "submitMessage",
            "requestBody": {
                "required": True,
                "content": {
                    "application/xml": {"schema": {"type": "string"}},
                    "text/xml": {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "201": {"description": "accepted", "headers": _RECEIPT_HEADERS, "content": _XML_RECEIPT},
                "200": {
                    "description": "an exact retry of an accepted document: the original receipt, byte for "
                    "byte",
                    "headers": _RECEIPT_HEADERS,
                    "content": _XML_RECEIPT,
                },
                "400": _rejected("rejected: the document must be fixed (a signed rejection receipt)"),
                "403": _rejected("rejected: signature or certificate not trusted, or signer not authorized"),
                "409": _rejected("rejected: duplicate-conflict or invalid-transition"),
                "413": _problem("too-large"),
                "415": _problem("not sent as application/xml"),
                "422": _rejected("rejected: unknown-appeal, unknown-official or unknown-addressee"),
            },
        }
    },
    "/api/v1/appeals/{tracking_code}": {
        "get": {
            "tags": ["appeals"],
            "summary": "An appeal's timeline by tracking code (no personal data)",
            "operationId": "appealTimeline",
            "parameters": [_TRACKING],
            "responses": {"200": _json(_ref("AppealTimeline"), "the timeline"), "404": _NOT_FOUND},
        }
    },
    "/api/v1/appeals/{tracking_code}/status.xml": {
        "get": {
            "tags": ["appeals"],
            "summary": "The appeal's latest signed StatusUpdate",
            "operationId": "appealStatusXml",
            "parameters": [_TRACKING],
            "responses": {
                "200": {
                    "description": "the signed StatusUpdate",
                    "content": {"application/xml": {"schema": {"type": "string"}}},
                },
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/inbox/{official_id}": {
        "get": {
            "tags": ["inboxes"],
            "summary": "An official's inbox after a cursor (unacknowledged items only)",
            "description": _PULL,
            "operationId": "inboxPull",
            "security": _BEARER,
            "parameters": [
                _OFFICIAL_ID,
                {"name": "after", "in": "query", "schema": {**_CURSOR, "default": 0}},
                _PULL_LIMIT,
            ],
            "responses": {
                "200": _json(_ref("InboxPage"), "the items"),
                "400": _BAD_REQUEST,
                "401": _UNAUTHORIZED,
                "403": _problem("the system does not serve the official's agency"),
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/inbox/{official_id}/ack": {
        "post": {
            "tags": ["inboxes"],
            "summary": "Acknowledge an official's inbox up to a cursor, or by ids",
            "operationId": "inboxAck",
            "security": _BEARER,
            "parameters": [_OFFICIAL_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Ack")}}},
            "responses": {
                "200": _json(_ref("InboxAcked"), "acknowledged"),
                "400": _BAD_REQUEST,
                "401": _UNAUTHORIZED,
                "403": _problem("the system does not serve the official's agency"),
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/outbox": {
        "get": {
            "tags": ["inboxes"],
            "summary": "The calling system's own signed status updates after a cursor",
            "description": _PULL,
            "operationId": "outboxPull",
            "security": _BEARER,
            "parameters": [
                {"name": "after", "in": "query", "schema": {**_CURSOR, "default": 0}},
                _PULL_LIMIT,
            ],
            "responses": {
                "200": _json(_ref("OutboxPage"), "the items"),
                "400": _BAD_REQUEST,
                "401": _UNAUTHORIZED,
            },
        }
    },
    "/api/v1/outbox/ack": {
        "post": {
            "tags": ["inboxes"],
            "summary": "Acknowledge the calling system's status updates up to a cursor, or by ids",
            "operationId": "outboxAck",
            "security": _BEARER,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Ack")}}},
            "responses": {
                "200": _json(_ref("OutboxAcked"), "acknowledged"),
                "400": _BAD_REQUEST,
                "401": _UNAUTHORIZED,
            },
        }
    },
    "/api/v1/officials": {
        "get": {
            "tags": ["catalog"],
            "summary": "Search officials by name, post or area of responsibility",
            "description": "Every word of `q` must occur (case-insensitive) in the name, the post title or "
            "an area. Officials in post first, then by name.",
            "operationId": "officialsSearch",
            "parameters": [
                {"name": "q", "in": "query", "schema": _STR, "description": "words to find"},
                {"name": "unit", "in": "query", "schema": _STR, "description": "an org unit: it and below"},
                {"name": "topic", "in": "query", "schema": _STR, "description": "an area, e.g. housing"},
                *_PAGE_PARAMS,
            ],
            "responses": {"200": _json(_ref("OfficialPage"), "a page of officials"), "400": _BAD_REQUEST},
        }
    },
    "/api/v1/officials/{official_id}": {
        "get": {
            "tags": ["catalog"],
            "summary": "An official's profile: post, unit, reports-to, duties, contacts, reports, rating",
            "operationId": "officialProfile",
            "parameters": [_OFFICIAL_ID],
            "responses": {"200": _json(_ref("OfficialProfile"), "the profile"), "404": _NOT_FOUND},
        }
    },
    "/api/v1/officials/{official_id}/report-schedule": {
        "get": {
            "tags": ["reports"],
            "summary": "Every report due from the official, newest first: on time, late, missing or pending",
            "operationId": "officialReportSchedule",
            "parameters": [
                _OFFICIAL_ID,
                {"name": "kind", "in": "query", "schema": {"enum": ["week", "month", "year"]}},
            ],
            "responses": {
                "200": _json(_ref("ReportSchedule"), "the schedule"),
                "400": _BAD_REQUEST,
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/org-units": {
        "get": {
            "tags": ["catalog"],
            "summary": "The org tree",
            "operationId": "orgUnitsTree",
            "responses": {"200": _json(_ref("OrgTree"), "the top-level units with their sub-units")},
        }
    },
    "/api/v1/org-units/{unit_id}": {
        "get": {
            "tags": ["catalog"],
            "summary": "An org unit: its place in the tree, head, posts and officials",
            "operationId": "orgUnit",
            "parameters": [_path_param("unit_id", "an org unit's id, e.g. ou-ministry-housing")],
            "responses": {"200": _json(_ref("OrgUnit"), "the unit"), "404": _NOT_FOUND},
        }
    },
    "/api/v1/reports": {
        "get": {
            "tags": ["reports"],
            "summary": "Work reports, newest period first",
            "operationId": "reportsList",
            "parameters": [
                {"name": "official", "in": "query", "schema": _STR, "description": "an official's id"},
                {
                    "name": "period",
                    "in": "query",
                    "schema": _STR,
                    "description": "a kind (week, month, year) or a period (2026-W05, 2026-03, 2026)",
                },
                *_PAGE_PARAMS,
            ],
            "responses": {"200": _json(_ref("ReportPage"), "a page of reports"), "400": _BAD_REQUEST},
        }
    },
    "/api/v1/reports/{report_id}": {
        "get": {
            "tags": ["reports"],
            "summary": "A work report with its items and reviews",
            "operationId": "report",
            "parameters": [_path_param("report_id", "a report's id (wr-…)")],
            "responses": {"200": _json(_ref("ReportDetail"), "the report"), "404": _NOT_FOUND},
        }
    },
    "/api/v1/ratings": {
        "get": {
            "tags": ["ratings"],
            "summary": "A week's ranking: components, sample sizes, the best and the worst, the method",
            "operationId": "ratingsWeek",
            "parameters": [
                {
                    "name": "week",
                    "in": "query",
                    "schema": _WEEK,
                    "description": "default: the latest computed",
                },
                {"name": "unit", "in": "query", "schema": _STR, "description": "an org unit: it and below"},
            ],
            "responses": {
                "200": _json(_ref("WeekRatings"), "the week"),
                "400": _BAD_REQUEST,
                "404": _problem("no ratings computed for that week"),
            },
        }
    },
    "/api/v1/ratings/{official_id}": {
        "get": {
            "tags": ["ratings"],
            "summary": "An official's weekly rating history, oldest week first",
            "operationId": "ratingsHistory",
            "parameters": [_OFFICIAL_ID],
            "responses": {"200": _json(_ref("OfficialRatings"), "the history"), "404": _NOT_FOUND},
        }
    },
    "/api/v1/log": {
        "get": {
            "tags": ["transparency"],
            "summary": "The transparency log's newest signed checkpoint: size and root hash",
            "description": "Every receipt the gateway issued and every document it sent is an entry of an "
            "append-only RFC 9162 Merkle tree; the worker signs a LogCheckpoint of it every "
            "ZVAROT_LOG_INTERVAL seconds (docs/transparency.md).",
            "operationId": "logHead",
            "responses": {"200": _json(_ref("LogHead"), "the newest checkpoint"), "404": _NOT_FOUND},
        }
    },
    "/api/v1/log/checkpoints/{size}": {
        "get": {
            "tags": ["transparency"],
            "summary": "A signed LogCheckpoint by tree size, or the newest ('latest')",
            "operationId": "logCheckpoint",
            "parameters": [_path_param("size", "a tree size, or latest")],
            "responses": {
                "200": {
                    "description": "the LogCheckpoint, signed by the gateway (xsd/zvarot-1.xsd)",
                    "content": {"application/xml": {"schema": {"type": "string"}}},
                },
                "400": _BAD_REQUEST,
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/log/proof": {
        "get": {
            "tags": ["transparency"],
            "summary": "An entry's index and its inclusion proof (audit path) to a checkpoint's root",
            "operationId": "logInclusionProof",
            "parameters": [
                {
                    "name": "leaf_hash",
                    "in": "query",
                    "required": True,
                    "schema": _HASH,
                    "description": "SHA-256(0x00 || entry), the entry rebuilt from a Receipt or StatusUpdate",
                },
                {
                    "name": "receipt_id",
                    "in": "query",
                    "schema": _STR,
                    "description": "for a receipt's entry: its ReceiptId (this or appeal_id is required)",
                },
                {
                    "name": "appeal_id",
                    "in": "query",
                    "schema": _STR,
                    "description": "for a StatusUpdate or another document about an appeal: its AppealId",
                },
                {
                    "name": "tree_size",
                    "in": "query",
                    "schema": _CURSOR,
                    "description": "a checkpoint's size; default: the newest",
                },
            ],
            "responses": {
                "200": _json(_ref("InclusionProof"), "the proof"),
                "400": _BAD_REQUEST,
                "404": _problem("no such entry or checkpoint, or the entry came after that checkpoint"),
            },
        }
    },
    "/api/v1/log/consistency": {
        "get": {
            "tags": ["transparency"],
            "summary": "The proof that a checkpoint extends the log of an earlier size",
            "operationId": "logConsistencyProof",
            "parameters": [
                {"name": "first", "in": "query", "required": True, "schema": _CURSOR},
                {
                    "name": "second",
                    "in": "query",
                    "required": True,
                    "schema": _CURSOR,
                    "description": "a checkpoint's size, at least first",
                },
            ],
            "responses": {
                "200": _json(_ref("ConsistencyProof"), "the proof"),
                "400": _BAD_REQUEST,
                "404": _NOT_FOUND,
            },
        }
    },
    "/api/v1/log/entries": {
        "get": {
            "tags": ["transparency"],
            "summary": "Entries [start, end) in log order, at most 1,000 per request",
            "operationId": "logEntries",
            "parameters": [
                {"name": "start", "in": "query", "schema": _CURSOR, "description": "default 0"},
                {"name": "end", "in": "query", "required": True, "schema": _CURSOR},
            ],
            "responses": {"200": _json(_ref("LogEntries"), "the entries"), "400": _BAD_REQUEST},
        }
    },
}


@lru_cache(maxsize=1)
def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Zvarot gateway",
            "version": "1",
            "summary": "The signed-XML gateway between citizens and every public official",
            "description": "Signed documents go in through POST /api/v1/messages (a signed Receipt comes "
            "back); everything else is read. SOAP 1.1 for agency DMS is at /soap (WSDL at /soap?wsdl).",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "tags": [
            {"name": "documents"},
            {"name": "appeals"},
            {"name": "inboxes"},
            {"name": "catalog"},
            {"name": "reports"},
            {"name": "ratings"},
            {"name": "transparency"},
            {"name": "operations"},
        ],
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a registered system's token (zvarot systems token --id SYSTEM)",
                }
            },
        },
    }


def openapi_document() -> dict:
    """A fresh copy of the document (callers may change theirs)."""
    return copy.deepcopy(_document())
