"""The fictional demo world created on the first `zvarot up`: org units, officials, systems.

Ids here are used by the schema examples (xsd/examples/) and by the dev PKI manifest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoOrgUnit:
    id: str
    name: str
    parent: str | None


@dataclass(frozen=True)
class DemoOfficial:
    id: str
    name: str
    post: str
    org_unit: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoSystem:
    id: str
    name: str
    kind: str  # "portal" | "dms"
    serves: tuple[str, ...]  # org unit ids; the subtree under each is served
    document_types: tuple[str, ...]


ORG_UNITS = (
    DemoOrgUnit("ou-presidential-administration", "Presidential Administration", None),
    DemoOrgUnit("ou-ministry-housing", "Ministry of Housing and Utilities", None),
    DemoOrgUnit("ou-housing-department", "Housing Policy Department", "ou-ministry-housing"),
    DemoOrgUnit("ou-ministry-education", "Ministry of Education", None),
    DemoOrgUnit("ou-minsk-region", "Minsk Regional Executive Committee", None),
    DemoOrgUnit("ou-dzerzhinsk-district", "Dzerzhinsk District Executive Committee", "ou-minsk-region"),
    DemoOrgUnit("ou-fanipal-village", "Fanipal Village Council", "ou-dzerzhinsk-district"),
)

OFFICIALS = (
    DemoOfficial("off-president", "Alesia Hrynevich", "President", "ou-presidential-administration"),
    DemoOfficial(
        "off-housing-minister",
        "Ivan Petrov",
        "Minister of Housing and Utilities",
        "ou-ministry-housing",
        ("housing", "utilities"),
    ),
    DemoOfficial(
        "off-housing-dept-head",
        "Maryna Kavalionak",
        "Head of Housing Department",
        "ou-housing-department",
        ("housing", "repairs"),
    ),
    DemoOfficial(
        "off-education-minister",
        "Siarhei Lukashevich",
        "Minister of Education",
        "ou-ministry-education",
        ("schools",),
    ),
    DemoOfficial(
        "off-region-chair",
        "Andrei Zhuk",
        "Chair of the Regional Executive Committee",
        "ou-minsk-region",
        ("roads",),
    ),
    DemoOfficial(
        "off-district-chair",
        "Volha Bialiatskaya",
        "Chair of the District Executive Committee",
        "ou-dzerzhinsk-district",
        ("roads", "housing"),
    ),
    DemoOfficial(
        "off-village-secretary",
        "Pavel Sidarenka",
        "Secretary of the Village Council",
        "ou-fanipal-village",
        ("water", "roads"),
    ),
)

PORTAL_TYPES = ("Appeal", "AppealSupplement", "ReplyReview", "ReportReview")
DMS_TYPES = ("Appeal", "AppealForward", "AppealStatusChange", "AppealReply", "WorkReport", "DirectoryUpdate")

SYSTEMS = (
    DemoSystem("sys-portal", "National e-services portal", "portal", (), PORTAL_TYPES),
    DemoSystem("sys-dms-housing", "Ministry of Housing DMS", "dms", ("ou-ministry-housing",), DMS_TYPES),
    DemoSystem("sys-dms-minsk-region", "Minsk Region DMS", "dms", ("ou-minsk-region",), DMS_TYPES),
)
