"""Findings: severities and explanations in English and Korean."""

from __future__ import annotations

from anbu.domain import Severity
from detectors.findings import (
    CATALOG,
    DEVICE_KINDS,
    PERSON_KINDS,
    FindingKind,
    duration_en,
    duration_ko,
    explain,
)


def test_severity_tiers() -> None:
    assert [s.label for s in Severity] == ["caution", "alarm", "danger"]
    assert [s.label_ko for s in Severity] == ["주의", "경보", "위험"]
    assert not Severity.CAUTION.escalated and Severity.ALARM.escalated
    assert Severity.parse("danger") is Severity.DANGER


def test_kinds() -> None:
    assert len(FindingKind) == 14
    assert all(k.value.startswith("device.") for k in DEVICE_KINDS)
    assert FindingKind.INACTIVITY in PERSON_KINDS and len(PERSON_KINDS) == 9


def test_durations() -> None:
    assert [duration_en(s) for s in (0, 59, 2100, 9600, 86400, 97200)] == [
        "0 min", "1 min", "35 min", "2 h 40 min", "1 d", "1 d 3 h"]
    assert [duration_ko(s) for s in (2100, 9600, 7200, 97200)] == [
        "35분", "2시간 40분", "2시간", "1일 3시간"]


def test_explanations_in_both_languages() -> None:
    e = explain("inactivity.rhythm", silence=9600, since="13:20", every=1200)
    assert e.key == "inactivity.rhythm"
    assert e.en == ("No sign of life for 2 h 40 min (since 13:20). At this hour there is "
                    "usually one every 20 min.")
    assert e.ko == ("2시간 40분 동안 생활 반응이 없습니다 (13:20 이후). 이 시간대에는 보통 "
                    "20분에 한 번 반응이 있습니다.")
    assert dict(e.params) == {"silence": 9600, "since": "13:20", "every": 1200}


def test_every_catalog_entry_has_both_languages() -> None:
    for key, (en, ko) in CATALOG.items():
        assert en and ko and en != ko, key
