"""The public catalog over JSON on the demo world: officials (search, profile), the org tree and its units."""

from __future__ import annotations

DEPT_HEAD, MINISTER = "off-housing-dept-head", "off-housing-minister"


def search(client, query: str = "") -> dict:
    response = client.get(f"/api/v1/officials?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(found: dict) -> list[str]:
    return [o["id"] for o in found["items"]]


def test_search_by_name_post_and_area(client):
    everyone = search(client, "limit=100")
    assert everyone["total"] == 37 == len(everyone["items"])
    assert ids(search(client, "q=kavalionak")) == [DEPT_HEAD]  # a name, any case
    assert ids(search(client, "q=Ivan+petrov")) == [MINISTER]  # every word must match
    assert DEPT_HEAD in ids(search(client, "q=housing+department+head"))  # the post title
    assert set(ids(search(client, "q=elevators"))) == {"off-housing-dept-deputy"}  # an area
    assert ids(search(client, "q=nobody-is-called-this")) == []
    [item] = search(client, "q=kavalionak")["items"]
    assert item == {
        "id": DEPT_HEAD,
        "name": "Maryna Kavalionak",
        "post": "Head of Housing Department",
        "in_post": True,
        "org_unit": {"id": "ou-housing-department", "name": "Housing Policy Department"},
        "areas": ["housing", "repairs"],
    }


def test_search_by_unit_and_topic_and_paging(client):
    in_ministry = set(ids(search(client, "unit=ou-ministry-housing&limit=100")))
    assert {MINISTER, DEPT_HEAD} <= in_ministry  # the department lies below the ministry
    assert not any(o.startswith("off-education") for o in in_ministry)
    assert set(ids(search(client, "unit=ou-ministry-housing&topic=housing"))) == {MINISTER, DEPT_HEAD}
    page1 = search(client, "limit=5")
    page2 = search(client, "limit=5&offset=5")
    assert (page1["total"], len(page1["items"]), page2["offset"]) == (37, 5, 5)
    assert not set(ids(page1)) & set(ids(page2))
    names = [o["name"] for o in search(client, "limit=100")["items"]]
    assert names == sorted(names, key=str.casefold)
    assert client.get("/api/v1/officials?limit=0").status_code == 400
    assert client.get("/api/v1/officials?offset=-1").status_code == 400
    # str.isdigit() takes "²"; a number past 2**31 - 1 would overflow PostgreSQL's integer
    for query in ("limit=%C2%B2", "offset=%C2%B2", "offset=2147483648", "offset=9223372036854775808"):
        for path in ("/api/v1/officials", "/api/v1/reports"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert "are whole numbers" in response.json["detail"]
    assert client.get("/api/v1/officials?offset=2147483647").json["items"] == []


def test_an_officials_profile(client):
    profile = client.get(f"/api/v1/officials/{DEPT_HEAD}").get_json()
    assert profile["name"] == "Maryna Kavalionak"
    assert profile["post"] == {
        "id": "post-housing-dept-head",
        "title": "Head of Housing Department",
        "is_head": True,
    }
    assert profile["org_unit"] == {
        "id": "ou-housing-department",
        "name": "Housing Policy Department",
        "kind": "department",
    }
    assert profile["reports_to"] == {
        "post": {
            "id": "post-housing-minister",
            "title": "Minister of Housing and Utilities",
            "org_unit_id": "ou-ministry-housing",
        },
        "officials": [{"id": MINISTER, "name": "Ivan Petrov"}],
    }
    assert profile["duties"].startswith("Routine and major repairs")
    assert profile["authority"] == "Approves the annual repair plans of the regions."
    assert profile["contacts"]["email"] == "housing-policy@mjkx.example.by"
    assert profile["biography"].startswith("Civil engineer")
    assert profile["areas"] == ["housing", "repairs"]
    assert profile["memberships"][0]["start_date"] == "2024-09-02"
    assert profile["rating"] is None  # no week computed yet
    assert profile["reports"] == {"total": 0, "latest": []}
    assert profile["report_schedule"]["missing"] > 0
    minister = client.get(f"/api/v1/officials/{MINISTER}").get_json()
    assert minister["reports_to"] is None
    assert client.get("/api/v1/officials/off-nobody").status_code == 404


def test_the_org_tree_and_a_unit(client):
    tree = client.get("/api/v1/org-units").get_json()["org_units"]
    assert [u["name"] for u in tree] == [
        "Ministry of Education",
        "Ministry of Housing and Utilities",
        "Minsk Regional Executive Committee",
        "Presidential Administration",
    ]  # by name
    region = tree[2]
    assert region["children"][0]["id"] == "ou-dzerzhinsk-district"
    assert region["children"][0]["children"][0]["id"] == "ou-fanipal-village"
    housing = tree[1]
    assert housing["head"] == [
        {"id": MINISTER, "name": "Ivan Petrov", "post": "Minister of Housing and Utilities"}
    ]
    assert [c["id"] for c in housing["children"]] == ["ou-housing-department"]

    unit = client.get("/api/v1/org-units/ou-housing-department").get_json()
    assert unit["parent"] == {"id": "ou-ministry-housing", "name": "Ministry of Housing and Utilities"}
    assert unit["path"] == [unit["parent"]]
    assert unit["head"]["officials"] == [{"id": DEPT_HEAD, "name": "Maryna Kavalionak"}]
    assert DEPT_HEAD in [o["id"] for o in unit["officials"]]
    assert {p["id"] for p in unit["posts"]} >= {"post-housing-dept-head", "post-housing-dept-deputy"}
    village = client.get("/api/v1/org-units/ou-fanipal-village").get_json()
    assert [p["id"] for p in village["path"]] == ["ou-minsk-region", "ou-dzerzhinsk-district"]
    assert client.get("/api/v1/org-units/ou-nowhere").status_code == 404
