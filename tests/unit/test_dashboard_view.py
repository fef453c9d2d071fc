"""Pure parts of the pages: board state, rows, ranges, and the Korean/English catalogue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.model import Outcome
from dashboard.i18n import MESSAGES, Translator
from dashboard.view import STATES, board_row, board_state, own_range

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "dashboard" / "templates"
MIGRATIONS = ROOT / "anbu" / "storage" / "migrations"


@pytest.mark.parametrize(
    ("rank", "device", "away", "expected"),
    [
        (None, None, None, "normal"),
        (0, 0, None, "normal"),
        (None, None, "hospital", "away"),
        (None, 2, "away", "device"),  # a dead sensor must be seen even while away
        (1, 3, "away", "caution"),  # a person alert outranks a device problem
        (2, 0, None, "alarm"),
        (3, 1, None, "danger"),
    ],
)
def test_board_state(rank: int | None, device: int | None, away: str | None, expected: str) -> None:
    assert board_state(rank, device, away) == expected


def row(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "hh-1",
        "display_name": "김○○",
        "dong": "마장동",
        "risk_level": "high",
        "planner_name": "최유진",
        "last_sign_at": NOW - timedelta(hours=2, minutes=13),
        "presence": "home",
        "open_alerts": 1,
        "state": "alarm",
    }
    return base | over


def test_board_row_shows_the_household_in_the_users_language() -> None:
    ko = str(board_row(row(), Translator("ko"), NOW))
    assert 'id="h-hh-1"' in ko and 'data-state="alarm"' in ko
    assert "경보" in ko and "2시간 13분 전" in ko and "높음" in ko
    en = str(board_row(row(presence="away"), Translator("en"), NOW))
    assert "Alarm" in en and "2 hr 13 min ago" in en and "Out" in en
    never = str(board_row(row(last_sign_at=None, open_alerts=0), Translator("ko"), NOW))
    assert "기록 없음" in never and 'data-ago=""' in never


def test_board_row_escapes_everything_from_the_database() -> None:
    evil = '"><script>alert(1)</script>'
    html = str(
        board_row(row(display_name=evil, dong=evil, planner_name=evil), Translator("ko"), NOW)
    )
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 3


def test_own_range_needs_enough_readings() -> None:
    assert own_range([120, 125, 130]) is None
    lo, hi = own_range([120, 124, 128, 132, 136]) or (0, 0)
    assert lo < 120 and hi > 136 and round((lo + hi) / 2) == 128


def test_durations_in_both_languages() -> None:
    ko, en = Translator("ko"), Translator("en")
    assert ko.duration(timedelta(minutes=5)) == "5분"
    assert en.duration(timedelta(minutes=5)) == "5 min"
    assert ko.duration(timedelta(hours=30)) == "30시간"  # under two days: hours
    assert en.duration(timedelta(days=3, hours=4)) == "3 days 4 hr"
    assert ko.ago(NOW - timedelta(seconds=20), NOW) == "방금"
    assert en.ago(None, NOW) == "never"
    assert ko.kind("device.offline/pir-1") == "기기 오프라인 (pir-1)"


def test_every_message_has_both_languages() -> None:
    for key, (ko, en) in MESSAGES.items():
        assert ko.strip() and en.strip(), key
        assert set(re.findall(r"\{(\w+)\}", ko)) == set(re.findall(r"\{(\w+)\}", en)), key
        if key not in ("app", "nav.lang"):
            assert ko != en or key.startswith("metric."), f"{key} is not translated"


def test_every_key_the_pages_use_exists() -> None:
    found = set()
    for path in TEMPLATES.glob("*.html"):
        found |= set(re.findall(r"""\bt\(['"]([a-z_.]+)['"]""", path.read_text()))
    used = {k for k in found if not k.endswith(".")}
    assert len(used) > 50
    # keys built from data (t('state.' ~ h.state)): every value each can take
    dynamic = {k for k in found if k.endswith(".")}
    assert dynamic <= {
        "state.",
        "severity.",
        "outcome.",
        "risk.",
        "presence.",
        "alert_state.",
        "away.",
        "delivery.",
    }, dynamic
    used |= {f"delivery.{s}" for s in ("sent", "pending", "failed")}
    used |= {f"alert_state.{s}" for s in ("open", "acknowledged", "resolved")}
    used |= {f"away.{r}" for r in ("away", "hospital", "visit", "maintenance")}
    sql = (MIGRATIONS / "0004_detectors.sql").read_text()
    kinds = re.findall(
        r"'([a-z_.]+)'", sql.split("kind            text NOT NULL CHECK")[1].split(")")[0]
    )
    assert "inactivity" in kinds and "device.gateway_offline" in kinds
    used |= {f"kind.{k}" for k in kinds}
    used |= {f"state.{s}" for s in STATES}
    used |= {f"severity.{s}" for s in ("caution", "alarm", "danger")}
    used |= {f"outcome.{o.value}" for o in Outcome}
    used |= {f"risk.{r}" for r in ("low", "medium", "high")}
    used |= {f"presence.{p}" for p in ("home", "asleep", "away", "unknown")}
    missing = sorted(k for k in used if k not in MESSAGES)
    assert not missing, missing
