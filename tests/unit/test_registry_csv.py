from __future__ import annotations

from anbu import registry_csv


def test_households_parse_with_optional_columns_and_excel_bom() -> None:
    text = (
        "\ufeffid,district_id,dong,display_name,birth_year,risk_level,consent_monitoring\n"
        "hh-1,11200,마장동,김○○,1948,high,예\n"
        "hh-2,11200,옥수동,박○○,,,no\n"
    )
    p = registry_csv.households(text)
    assert p.errors == []
    assert [(h.id, h.birth_year, h.risk_level, h.consent_monitoring) for h in p.rows] == [
        ("hh-1", 1948, "high", True),
        ("hh-2", None, "medium", False),
    ]


def test_every_bad_row_is_reported_with_its_line() -> None:
    text = (
        "id,district_id,dong,display_name,birth_year,risk_level\n"
        "hh 1,11200,마장동,김○○,,\n"  # bad id
        "hh-2,11200,옥수동,,,\n"  # empty name
        "hh-3,11200,옥수동,이○○,nineteen,\n"  # bad year
        "hh-4,11200,옥수동,최○○,,extreme\n"  # bad risk
        "hh-5,11200,옥수동,정○○,1950,low,x\n"  # too many values
        "hh-6,11200,옥수동,강○○,1950,low\n"
        "hh-6,11200,옥수동,강○○,1950,low\n"
    )  # duplicate id
    p = registry_csv.households(text)
    assert [e.split(":")[0] for e in p.errors] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "row 2",
    ]
    assert "'hh 1'" in p.errors[0] and "display_name is empty" in p.errors[1]
    assert "appears twice" in p.errors[-1]


def test_header_problems_stop_the_file() -> None:
    p = registry_csv.staff("id,username,name,role\n")
    assert p.rows == [] and p.errors == [
        "line 1: missing columns: display_name; unknown columns: name"
    ]


def test_staff_and_assignments() -> None:
    s = registry_csv.staff(
        "id,username,display_name,role,district_id\n"
        "p1,planner1,최유진,planner,11200\n"
        "ad,admin,관리자,admin,\n"
        "p9,planner9,무소속,planner,\n"
    )
    assert [x.id for x in s.rows] == ["p1", "ad"]
    assert s.errors == ["line 4: a planner needs a district_id"]
    a = registry_csv.assignments("household_id,staff_id,role\nhh-1,p1,primary\nhh-1,p2,boss\n")
    assert a.errors == ["line 3: role 'boss' is not one of primary, backup"]
