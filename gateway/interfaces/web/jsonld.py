"""schema.org JSON-LD for the catalog pages: GovernmentOrganization for org units (with parentOrganization),
Person for officials (jobTitle, worksFor). `url(endpoint, **values)` gives absolute URLs, used as @id."""

from __future__ import annotations

from collections.abc import Callable, Iterable

CONTEXT = "https://schema.org"
Url = Callable[..., str]


def organization(unit: dict, url: Url, parent: dict | None = None, children: Iterable[dict] = ()) -> dict:
    node = {
        "@type": "GovernmentOrganization",
        "@id": url("pages.unit", unit_id=unit["id"]),
        "identifier": unit["id"],
        "name": unit["name"],
        "url": url("pages.unit", unit_id=unit["id"]),
    }
    if unit.get("description"):
        node["description"] = unit["description"]
    if parent:
        node["parentOrganization"] = {
            "@type": "GovernmentOrganization",
            "@id": url("pages.unit", unit_id=parent["id"]),
            "name": parent["name"],
        }
    subs = [
        {"@type": "GovernmentOrganization", "@id": url("pages.unit", unit_id=c["id"]), "name": c["name"]}
        for c in children
    ]
    if subs:
        node["subOrganization"] = subs
    return node


def tree_graph(tree: list[dict], url: Url) -> dict:
    """Every unit of the org tree (catalog.org_tree), each pointing at its parent."""
    graph: list[dict] = []

    def walk(node: dict, parent: dict | None) -> None:
        graph.append(organization(node, url, parent))
        for child in node["children"]:
            walk(child, node)

    for root in tree:
        walk(root, None)
    return {"@context": CONTEXT, "@graph": graph}


def person(profile: dict, url: Url, parent: dict | None = None) -> dict:
    """An official's profile (catalog.official_profile); `parent`: the unit's parent, if known."""
    node: dict = {
        "@context": CONTEXT,
        "@type": "Person",
        "@id": url("pages.official", official_id=profile["id"]),
        "identifier": profile["id"],
        "name": profile["name"],
        "url": url("pages.official", official_id=profile["id"]),
    }
    if profile.get("post") and profile.get("in_post"):
        node["jobTitle"] = profile["post"]["title"]
        if profile.get("org_unit"):
            node["worksFor"] = organization(profile["org_unit"], url, parent)
    contacts = profile.get("contacts") or {}
    if contacts.get("email"):
        node["email"] = contacts["email"]
    if contacts.get("phone"):
        node["telephone"] = contacts["phone"]
    if contacts.get("address"):
        node["address"] = contacts["address"]
    if profile.get("biography"):
        node["description"] = profile["biography"]
    if profile.get("areas"):
        node["knowsAbout"] = list(profile["areas"])
    return node


def unit_graph(unit: dict, url: Url) -> dict:
    """An org unit (catalog.org_unit) with its sub-units and the officials in post there."""
    org = organization(unit, url, unit.get("parent"), unit.get("children", ()))
    members = [
        {
            "@type": "Person",
            "@id": url("pages.official", official_id=o["id"]),
            "name": o["name"],
            **({"jobTitle": o["post"]} if o.get("post") else {}),
            "worksFor": {"@id": org["@id"]},
        }
        for o in unit.get("officials", ())
    ]
    return {"@context": CONTEXT, "@graph": [org, *members]}
