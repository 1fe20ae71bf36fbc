"""The fictional demo world created on the first `zvarot up`: org units, posts, officials, systems.

Seven bodies of a fictional state apparatus, from a village council up to the presidential administration,
with 37 officials. Every unit has a head post; the other posts of a unit report to a post of the same unit,
and a department's head reports to the minister. Names, addresses, phone numbers and e-mail domains are
invented (example.by).

Ids here are used by the schema examples (xsd/examples/), by tests and by the dev PKI manifest. Routing in the
examples depends on the topics: in the Ministry of Housing only the minister and the head of the Housing
Policy Department are responsible for "housing", so an appeal to ou-ministry-housing + housing goes to exactly
those two (xsd/examples/Receipt.xml).

gateway.demo.seed loads this world through the DirectoryUpdate import service, as a DMS would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

EFFECTIVE_FROM = date(2025, 1, 1)


@dataclass(frozen=True)
class DemoOrgUnit:
    id: str
    name: str
    parent: str | None
    kind: str
    description: str = ""


@dataclass(frozen=True)
class DemoPost:
    id: str
    title: str
    org_unit: str
    reports_to: str | None = None  # a post id; None for a top-level head


@dataclass(frozen=True)
class DemoOfficial:
    id: str
    name: str
    post: str  # post id
    topics: tuple[str, ...] = ()
    duties: str = ""
    authority: str = ""
    biography: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    start: date = date(2024, 1, 15)  # in the current post


@dataclass(frozen=True)
class DemoSystem:
    id: str
    name: str
    kind: str  # "portal" | "dms"
    serves: tuple[str, ...]  # org unit ids; the subtree under each is served
    document_types: tuple[str, ...]
    forward_documents: bool = False  # receives the officials' own documents about its appeals


ORG_UNITS = (
    DemoOrgUnit(
        "ou-presidential-administration",
        "Presidential Administration",
        None,
        "presidential-administration",
        "Supports the President; oversees how state bodies answer citizens' appeals.",
    ),
    DemoOrgUnit(
        "ou-ministry-housing",
        "Ministry of Housing and Utilities",
        None,
        "ministry",
        "State policy on housing, utilities, heating and water supply.",
    ),
    DemoOrgUnit(
        "ou-housing-department",
        "Housing Policy Department",
        "ou-ministry-housing",
        "department",
        "Maintenance and repair of the housing stock, housing registration, homeowners' associations.",
    ),
    DemoOrgUnit(
        "ou-ministry-education",
        "Ministry of Education",
        None,
        "ministry",
        "Schools, kindergartens, universities and the teaching profession.",
    ),
    DemoOrgUnit(
        "ou-minsk-region",
        "Minsk Regional Executive Committee",
        None,
        "regional-committee",
        "Local government of the Minsk region: regional roads, transport, land, social protection.",
    ),
    DemoOrgUnit(
        "ou-dzerzhinsk-district",
        "Dzerzhinsk District Executive Committee",
        "ou-minsk-region",
        "district-committee",
        "Local government of the Dzerzhinsk district.",
    ),
    DemoOrgUnit(
        "ou-fanipal-village",
        "Fanipal Village Council",
        "ou-dzerzhinsk-district",
        "village-council",
        "Local self-government of the town of Fanipal.",
    ),
)

POSTS = (
    # Presidential Administration
    DemoPost("post-president", "President", "ou-presidential-administration"),
    DemoPost(
        "post-admin-head",
        "Head of the Presidential Administration",
        "ou-presidential-administration",
        "post-president",
    ),
    DemoPost(
        "post-appeals-office-head",
        "Head of the Citizens' Appeals Office",
        "ou-presidential-administration",
        "post-admin-head",
    ),
    DemoPost(
        "post-social-adviser", "Adviser on Social Policy", "ou-presidential-administration", "post-admin-head"
    ),
    DemoPost(
        "post-regional-adviser",
        "Adviser on Regional Development",
        "ou-presidential-administration",
        "post-admin-head",
    ),
    # Ministry of Housing and Utilities
    DemoPost("post-housing-minister", "Minister of Housing and Utilities", "ou-ministry-housing"),
    DemoPost(
        "post-housing-first-deputy", "First Deputy Minister", "ou-ministry-housing", "post-housing-minister"
    ),
    DemoPost(
        "post-housing-deputy-water",
        "Deputy Minister for Water Supply",
        "ou-ministry-housing",
        "post-housing-minister",
    ),
    DemoPost(
        "post-housing-tariffs",
        "Head of the Tariff Policy Division",
        "ou-ministry-housing",
        "post-housing-first-deputy",
    ),
    # Housing Policy Department
    DemoPost(
        "post-housing-dept-head",
        "Head of Housing Department",
        "ou-housing-department",
        "post-housing-minister",
    ),
    DemoPost(
        "post-housing-dept-deputy",
        "Deputy Head of Housing Department",
        "ou-housing-department",
        "post-housing-dept-head",
    ),
    DemoPost(
        "post-housing-registration",
        "Chief Specialist for Housing Registration",
        "ou-housing-department",
        "post-housing-dept-head",
    ),
    DemoPost(
        "post-housing-associations",
        "Chief Specialist for Homeowners' Associations",
        "ou-housing-department",
        "post-housing-dept-head",
    ),
    DemoPost(
        "post-housing-energy",
        "Chief Specialist for Energy Efficiency",
        "ou-housing-department",
        "post-housing-dept-head",
    ),
    # Ministry of Education
    DemoPost("post-education-minister", "Minister of Education", "ou-ministry-education"),
    DemoPost(
        "post-education-first-deputy",
        "First Deputy Minister",
        "ou-ministry-education",
        "post-education-minister",
    ),
    DemoPost(
        "post-education-deputy-higher",
        "Deputy Minister for Higher Education",
        "ou-ministry-education",
        "post-education-minister",
    ),
    DemoPost(
        "post-education-preschool",
        "Head of the Preschool Education Division",
        "ou-ministry-education",
        "post-education-first-deputy",
    ),
    DemoPost(
        "post-education-school-services",
        "Head of the School Transport and Meals Division",
        "ou-ministry-education",
        "post-education-first-deputy",
    ),
    # Minsk Regional Executive Committee
    DemoPost("post-region-chair", "Chair of the Regional Executive Committee", "ou-minsk-region"),
    DemoPost("post-region-first-deputy", "First Deputy Chair", "ou-minsk-region", "post-region-chair"),
    DemoPost(
        "post-region-deputy-housing",
        "Deputy Chair for Housing and Utilities",
        "ou-minsk-region",
        "post-region-chair",
    ),
    DemoPost(
        "post-region-deputy-land",
        "Deputy Chair for Agriculture and Land",
        "ou-minsk-region",
        "post-region-chair",
    ),
    DemoPost(
        "post-region-education",
        "Head of the Education Department",
        "ou-minsk-region",
        "post-region-first-deputy",
    ),
    DemoPost(
        "post-region-social",
        "Head of the Labour, Employment and Social Protection Department",
        "ou-minsk-region",
        "post-region-chair",
    ),
    DemoPost(
        "post-region-health", "Head of the Health Care Department", "ou-minsk-region", "post-region-chair"
    ),
    # Dzerzhinsk District Executive Committee
    DemoPost("post-district-chair", "Chair of the District Executive Committee", "ou-dzerzhinsk-district"),
    DemoPost(
        "post-district-first-deputy", "First Deputy Chair", "ou-dzerzhinsk-district", "post-district-chair"
    ),
    DemoPost(
        "post-district-deputy-economy",
        "Deputy Chair for the Economy",
        "ou-dzerzhinsk-district",
        "post-district-chair",
    ),
    DemoPost(
        "post-district-housing-service",
        "Director of the District Housing and Utilities Service",
        "ou-dzerzhinsk-district",
        "post-district-first-deputy",
    ),
    DemoPost(
        "post-district-education",
        "Head of the Education Sector",
        "ou-dzerzhinsk-district",
        "post-district-chair",
    ),
    DemoPost(
        "post-district-social",
        "Head of the Labour, Employment and Social Protection Office",
        "ou-dzerzhinsk-district",
        "post-district-chair",
    ),
    DemoPost(
        "post-district-architect", "Chief Architect", "ou-dzerzhinsk-district", "post-district-first-deputy"
    ),
    # Fanipal Village Council
    DemoPost("post-village-chair", "Chair of the Village Council", "ou-fanipal-village"),
    DemoPost(
        "post-village-secretary",
        "Secretary of the Village Council",
        "ou-fanipal-village",
        "post-village-chair",
    ),
    DemoPost(
        "post-village-utilities",
        "Specialist for Housing and Utilities",
        "ou-fanipal-village",
        "post-village-chair",
    ),
    DemoPost("post-village-land", "Land Management Specialist", "ou-fanipal-village", "post-village-chair"),
)

_ADMIN = "1 Prykladnaya St., 220016 Minsk"
_HOUSING = "16 Prykladnaya St., 220048 Minsk"
_EDUCATION = "9 Prykladnaya St., 220010 Minsk"
_REGION = "4 Prykladny Ave., 220030 Minsk"
_DISTRICT = "1 Prykladnaya Sq., 222720 Dzerzhinsk"
_VILLAGE = "25 Prykladnaya St., 222750 Fanipal"

OFFICIALS = (
    # --- Presidential Administration
    DemoOfficial(
        "off-president",
        "Alesia Hrynevich",
        "post-president",
        (),
        duties="Heads the state; receives appeals that no other body could resolve.",
        authority="Issues decrees; appoints ministers and the chairs of regional executive committees.",
        biography="Economist; chaired the Minsk Regional Executive Committee before taking office.",
        email="priemnaya@president.example.by",
        phone="+375 17 222-00-01",
        address=_ADMIN,
        start=date(2021, 3, 1),
    ),
    DemoOfficial(
        "off-admin-head",
        "Mikalai Dubouski",
        "post-admin-head",
        ("civil-service",),
        duties="Runs the Presidential Administration; oversees the civil service.",
        authority="Signs instructions to state bodies on behalf of the Administration.",
        biography="Lawyer; twenty years in the civil service.",
        email="office@president.example.by",
        phone="+375 17 222-00-02",
        address=_ADMIN,
        start=date(2022, 9, 5),
    ),
    DemoOfficial(
        "off-appeals-office-head",
        "Iryna Kuzmich",
        "post-appeals-office-head",
        ("citizen-appeals",),
        duties="Checks that state bodies answer citizens' appeals on time and on the merits.",
        authority="May request any state body's file on an appeal.",
        biography="Formerly an investigator of the State Control Committee.",
        email="appeals@president.example.by",
        phone="+375 17 222-00-15",
        address=_ADMIN,
        start=date(2023, 2, 1),
    ),
    DemoOfficial(
        "off-social-adviser",
        "Dzmitry Navumenka",
        "post-social-adviser",
        ("pensions", "social-support"),
        duties="Advises on pensions, benefits and social services.",
        biography="Sociologist; led the pension reform working group.",
        email="social@president.example.by",
        phone="+375 17 222-00-21",
        address=_ADMIN,
    ),
    DemoOfficial(
        "off-regional-adviser",
        "Hanna Ramanchuk",
        "post-regional-adviser",
        ("public-transport", "land"),
        duties="Advises on regional development, transport links and land use.",
        biography="Urban planner; worked in three regional executive committees.",
        email="regions@president.example.by",
        phone="+375 17 222-00-22",
        address=_ADMIN,
    ),
    # --- Ministry of Housing and Utilities
    DemoOfficial(
        "off-housing-minister",
        "Ivan Petrov",
        "post-housing-minister",
        ("housing", "utilities"),
        duties="State policy on housing and utilities; coordinates the regional executive committees' upkeep "
        "of the housing stock.",
        authority="Heads the ministry; signs its orders on housing and utilities.",
        biography="Civil engineer; managed the Minsk city housing services before his appointment.",
        email="priemnaya@mjkx.example.by",
        phone="+375 17 200-00-01",
        address=_HOUSING,
        start=date(2023, 6, 1),
    ),
    DemoOfficial(
        "off-housing-first-deputy",
        "Siarhei Koval",
        "post-housing-first-deputy",
        ("heating", "utilities"),
        duties="District heating, the heating season and the reliability of utility networks.",
        authority="Acts for the minister in his absence.",
        biography="Power engineer; ran a district heating company for ten years.",
        email="first-deputy@mjkx.example.by",
        phone="+375 17 200-00-02",
        address=_HOUSING,
        start=date(2023, 8, 14),
    ),
    DemoOfficial(
        "off-housing-deputy-water",
        "Liudmila Shauchuk",
        "post-housing-deputy-water",
        ("water", "sewerage"),
        duties="Drinking water supply and sewerage in towns and villages.",
        biography="Hydraulic engineer; led the rural water supply programme.",
        email="water@mjkx.example.by",
        phone="+375 17 200-00-03",
        address=_HOUSING,
    ),
    DemoOfficial(
        "off-housing-tariffs",
        "Aliaksandr Yakubovich",
        "post-housing-tariffs",
        ("tariffs",),
        duties="Utility tariffs and subsidies; answers appeals about utility bills.",
        biography="Economist; formerly at the Ministry of Antimonopoly Regulation.",
        email="tariffs@mjkx.example.by",
        phone="+375 17 200-00-11",
        address=_HOUSING,
    ),
    # --- Housing Policy Department
    DemoOfficial(
        "off-housing-dept-head",
        "Maryna Kavalionak",
        "post-housing-dept-head",
        ("housing", "repairs"),
        duties="Routine and major repairs of the housing stock; citizens' appeals about housing repairs.",
        authority="Approves the annual repair plans of the regions.",
        biography="Civil engineer; in the housing and utilities sector since 2012, head of the department "
        "since 2024.",
        email="housing-policy@mjkx.example.by",
        phone="+375 17 200-00-27",
        address=_HOUSING,
        start=date(2024, 9, 2),
    ),
    DemoOfficial(
        "off-housing-dept-deputy",
        "Viktar Lis",
        "post-housing-dept-deputy",
        ("repairs", "elevators"),
        duties="Roof, facade and lift repairs; inspections of buildings in poor condition.",
        biography="Structural engineer.",
        email="repairs@mjkx.example.by",
        phone="+375 17 200-00-28",
        address=_HOUSING,
    ),
    DemoOfficial(
        "off-housing-registration",
        "Natallia Bahdanava",
        "post-housing-registration",
        ("housing-queue",),
        duties="Rules of the waiting list for state-supported housing.",
        biography="Lawyer; specialist in housing law.",
        email="queue@mjkx.example.by",
        phone="+375 17 200-00-29",
        address=_HOUSING,
    ),
    DemoOfficial(
        "off-housing-associations",
        "Yauhen Karpovich",
        "post-housing-associations",
        ("homeowners-associations",),
        duties="Homeowners' associations and the management of apartment buildings.",
        biography="Chaired a homeowners' association for eight years.",
        email="associations@mjkx.example.by",
        phone="+375 17 200-00-30",
        address=_HOUSING,
    ),
    DemoOfficial(
        "off-housing-energy",
        "Volha Martsinkevich",
        "post-housing-energy",
        ("energy-efficiency", "heating"),
        duties="Thermal insulation of buildings and heat metering.",
        biography="Energy auditor.",
        email="energy@mjkx.example.by",
        phone="+375 17 200-00-31",
        address=_HOUSING,
    ),
    # --- Ministry of Education
    DemoOfficial(
        "off-education-minister",
        "Siarhei Lukashevich",
        "post-education-minister",
        ("schools",),
        duties="State policy on education at every level.",
        authority="Heads the ministry; approves curricula and school standards.",
        biography="Teacher of physics; rector of a pedagogical university before his appointment.",
        email="priemnaya@edu.example.by",
        phone="+375 17 300-00-01",
        address=_EDUCATION,
        start=date(2022, 1, 10),
    ),
    DemoOfficial(
        "off-education-first-deputy",
        "Tatsiana Zhurauskaya",
        "post-education-first-deputy",
        ("schools", "teachers"),
        duties="General secondary education, teachers' training and workload.",
        authority="Acts for the minister in her absence.",
        biography="School principal for twelve years.",
        email="first-deputy@edu.example.by",
        phone="+375 17 300-00-02",
        address=_EDUCATION,
    ),
    DemoOfficial(
        "off-education-deputy-higher",
        "Andrei Sakalou",
        "post-education-deputy-higher",
        ("universities",),
        duties="Universities, admissions and student grants.",
        biography="Professor of mathematics.",
        email="higher@edu.example.by",
        phone="+375 17 300-00-03",
        address=_EDUCATION,
    ),
    DemoOfficial(
        "off-education-preschool",
        "Kseniya Harbachova",
        "post-education-preschool",
        ("kindergartens",),
        duties="Kindergarten places, fees and standards of care.",
        biography="Child psychologist.",
        email="preschool@edu.example.by",
        phone="+375 17 300-00-12",
        address=_EDUCATION,
    ),
    DemoOfficial(
        "off-education-school-services",
        "Raman Paulau",
        "post-education-school-services",
        ("school-transport", "school-meals"),
        duties="School buses for rural pupils and school meals.",
        biography="Logistics manager in the private sector before joining the ministry.",
        email="school-services@edu.example.by",
        phone="+375 17 300-00-13",
        address=_EDUCATION,
    ),
    # --- Minsk Regional Executive Committee
    DemoOfficial(
        "off-region-chair",
        "Andrei Zhuk",
        "post-region-chair",
        ("roads",),
        duties="Heads the regional executive committee; regional roads and investment.",
        authority="Signs the committee's decisions; appoints the chairs of district executive committees.",
        biography="Agronomist; chaired the Dzerzhinsk district executive committee.",
        email="priemnaya@minobl.example.by",
        phone="+375 17 500-00-01",
        address=_REGION,
        start=date(2021, 4, 1),
    ),
    DemoOfficial(
        "off-region-first-deputy",
        "Uladzimir Tsikhanau",
        "post-region-first-deputy",
        ("roads", "public-transport"),
        duties="Road maintenance, suburban buses and trains.",
        authority="Acts for the chair in his absence.",
        biography="Transport engineer.",
        email="first-deputy@minobl.example.by",
        phone="+375 17 500-00-02",
        address=_REGION,
    ),
    DemoOfficial(
        "off-region-deputy-housing",
        "Alena Dzmitryeva",
        "post-region-deputy-housing",
        ("housing", "utilities", "heating"),
        duties="Housing, utilities and heating in the region.",
        biography="Managed the regional housing and utilities company.",
        email="housing@minobl.example.by",
        phone="+375 17 500-00-03",
        address=_REGION,
    ),
    DemoOfficial(
        "off-region-deputy-land",
        "Pavel Klimovich",
        "post-region-deputy-land",
        ("land", "agriculture"),
        duties="Agriculture, land allocation and land disputes.",
        biography="Farm manager for fifteen years.",
        email="land@minobl.example.by",
        phone="+375 17 500-00-04",
        address=_REGION,
    ),
    DemoOfficial(
        "off-region-education",
        "Sviatlana Hurynovich",
        "post-region-education",
        ("schools", "kindergartens"),
        duties="The region's schools and kindergartens.",
        biography="Teacher of Belarusian language and literature.",
        email="education@minobl.example.by",
        phone="+375 17 500-00-20",
        address=_REGION,
    ),
    DemoOfficial(
        "off-region-social",
        "Maksim Bialou",
        "post-region-social",
        ("pensions", "social-support", "employment"),
        duties="Pensions, benefits, employment services and social care in the region.",
        biography="Social worker, then head of a district social services centre.",
        email="social@minobl.example.by",
        phone="+375 17 500-00-21",
        address=_REGION,
    ),
    DemoOfficial(
        "off-region-health",
        "Nina Astapenka",
        "post-region-health",
        ("healthcare",),
        duties="Hospitals, clinics and ambulances in the region.",
        biography="Physician; chief doctor of a district hospital.",
        email="health@minobl.example.by",
        phone="+375 17 500-00-22",
        address=_REGION,
    ),
    # --- Dzerzhinsk District Executive Committee
    DemoOfficial(
        "off-district-chair",
        "Volha Bialiatskaya",
        "post-district-chair",
        ("roads", "housing"),
        duties="Heads the district executive committee; district roads and housing.",
        authority="Signs the committee's decisions.",
        biography="Economist; deputy chair of the district executive committee before.",
        email="priemnaya@dzerzhinsk.example.by",
        phone="+375 1716 5-00-01",
        address=_DISTRICT,
        start=date(2022, 6, 20),
    ),
    DemoOfficial(
        "off-district-first-deputy",
        "Ihar Lapitski",
        "post-district-first-deputy",
        ("utilities", "heating", "water"),
        duties="Utilities, heating and water supply in the district.",
        authority="Acts for the chair in her absence.",
        biography="Engineer at the district water utility.",
        email="first-deputy@dzerzhinsk.example.by",
        phone="+375 1716 5-00-02",
        address=_DISTRICT,
    ),
    DemoOfficial(
        "off-district-deputy-economy",
        "Halina Sidarovich",
        "post-district-deputy-economy",
        ("trade", "land"),
        duties="Local economy, shops and markets, leases of land.",
        biography="Accountant; ran a consumer cooperative.",
        email="economy@dzerzhinsk.example.by",
        phone="+375 1716 5-00-03",
        address=_DISTRICT,
    ),
    DemoOfficial(
        "off-district-housing-service",
        "Yury Mikhnevich",
        "post-district-housing-service",
        ("repairs", "utilities"),
        duties="Upkeep and repairs of the district's apartment buildings.",
        biography="Foreman, then chief engineer of the housing service.",
        email="zhes@dzerzhinsk.example.by",
        phone="+375 1716 5-00-10",
        address=_DISTRICT,
    ),
    DemoOfficial(
        "off-district-education",
        "Alla Varonka",
        "post-district-education",
        ("schools", "kindergartens"),
        duties="Schools and kindergartens of the district.",
        biography="Primary school teacher.",
        email="education@dzerzhinsk.example.by",
        phone="+375 1716 5-00-11",
        address=_DISTRICT,
    ),
    DemoOfficial(
        "off-district-social",
        "Kanstantsin Hlebau",
        "post-district-social",
        ("pensions", "social-support"),
        duties="Pensions, benefits and home care in the district.",
        biography="Social worker.",
        email="social@dzerzhinsk.example.by",
        phone="+375 1716 5-00-12",
        address=_DISTRICT,
    ),
    DemoOfficial(
        "off-district-architect",
        "Darya Kruk",
        "post-district-architect",
        ("land", "construction"),
        duties="Building permits, land plots for housing, the district's master plan.",
        biography="Architect.",
        email="architect@dzerzhinsk.example.by",
        phone="+375 1716 5-00-13",
        address=_DISTRICT,
    ),
    # --- Fanipal Village Council
    DemoOfficial(
        "off-village-chair",
        "Tatsiana Maroz",
        "post-village-chair",
        ("public-transport",),
        duties="Heads the village council; local bus routes and public order.",
        authority="Signs the council's decisions.",
        biography="Teacher; elected chair of the village council in 2023.",
        email="chair@fanipol.example.by",
        phone="+375 1716 6-00-01",
        address=_VILLAGE,
        start=date(2023, 3, 6),
    ),
    DemoOfficial(
        "off-village-secretary",
        "Pavel Sidarenka",
        "post-village-secretary",
        ("water", "roads"),
        duties="Keeps the council's records; local roads and wells.",
        biography="Born in Fanipal; worked at the local water utility.",
        email="secretary@fanipol.example.by",
        phone="+375 1716 6-00-02",
        address=_VILLAGE,
    ),
    DemoOfficial(
        "off-village-utilities",
        "Ruslan Bandarenka",
        "post-village-utilities",
        ("repairs", "heating", "utilities"),
        duties="Complaints about repairs, heating and utilities in Fanipal.",
        biography="Plumber, then foreman of the local housing service.",
        email="utilities@fanipol.example.by",
        phone="+375 1716 6-00-03",
        address=_VILLAGE,
    ),
    DemoOfficial(
        "off-village-land",
        "Iryna Kavaleuskaya",
        "post-village-land",
        ("land",),
        duties="Garden plots, land registration and boundaries.",
        biography="Land surveyor.",
        email="land@fanipol.example.by",
        phone="+375 1716 6-00-04",
        address=_VILLAGE,
    ),
)

PORTAL_TYPES = ("Appeal", "AppealSupplement", "ReplyReview", "ReportReview")
DMS_TYPES = ("Appeal", "AppealForward", "AppealStatusChange", "AppealReply", "WorkReport", "DirectoryUpdate")

SYSTEMS = (
    DemoSystem(
        "sys-portal", "National e-services portal", "portal", (), PORTAL_TYPES, forward_documents=True
    ),
    DemoSystem("sys-dms-housing", "Ministry of Housing DMS", "dms", ("ou-ministry-housing",), DMS_TYPES),
    DemoSystem("sys-dms-minsk-region", "Minsk Region DMS", "dms", ("ou-minsk-region",), DMS_TYPES),
)


def post_of(official: DemoOfficial) -> DemoPost:
    return next(p for p in POSTS if p.id == official.post)
