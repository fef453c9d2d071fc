"""What a detector concludes: a `Finding`, its severity, its kind, and a readable explanation.

A finding is raised when a condition starts or gets worse (caution -> alarm -> danger), never
again on every tick while it lasts: alerts downstream have an identity (household + kind, plus
the device for device findings), and the engine remembers the level it has already reported.

Explanations are rendered here in English and Korean from a message key and parameters, so the
alert pipeline can store the key and params and the dashboard can show either language.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from anbu.domain import Severity


class FindingKind(enum.StrEnum):
    INACTIVITY = "inactivity"
    OVERDUE_RETURN = "overdue_return"
    ISOLATION = "isolation"
    WANDERING = "wandering"
    VITALS = "vitals"
    SOS = "sos"
    HEAT = "heat"
    COLD = "cold"
    POWER_ANOMALY = "power_anomaly"
    DEVICE_OFFLINE = "device.offline"
    DEVICE_GATEWAY_OFFLINE = "device.gateway_offline"
    DEVICE_LOW_BATTERY = "device.low_battery"
    DEVICE_STUCK = "device.stuck"
    DEVICE_SILENT = "device.silent"

    @property
    def is_device(self) -> bool:
        return self.value.startswith("device.")


#: kinds about the person (detections and false alarms are counted on these)
PERSON_KINDS = tuple(k for k in FindingKind if not k.is_device)
DEVICE_KINDS = tuple(k for k in FindingKind if k.is_device)


@dataclass(frozen=True, slots=True)
class Explanation:
    """A message key, its parameters, and the text in English and Korean."""

    key: str
    params: Mapping[str, Any]
    en: str
    ko: str


@dataclass(frozen=True, slots=True)
class Finding:
    household_id: str
    kind: str
    severity: Severity
    #: when the engine raised it (the evaluation time; an alert that came due while anbu was
    #: down is raised at start-up, and `evidence` says since when the silence lasts)
    at: datetime
    explanation: Explanation
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def device_id(self) -> str | None:
        d = self.evidence.get("device")
        return d if isinstance(d, str) else None


# -- rendering ---------------------------------------------------------------------------
def duration_en(seconds: float) -> str:
    """`2 h 40 min`, `35 min`, `3 d 4 h`."""
    m = max(0, int(round(seconds / 60.0)))
    d, rem = divmod(m, 1440)
    h, mi = divmod(rem, 60)
    if d:
        return f"{d} d {h} h" if h else f"{d} d"
    if h:
        return f"{h} h {mi} min" if mi else f"{h} h"
    return f"{mi} min"


def duration_ko(seconds: float) -> str:
    """`2시간 40분`, `35분`, `3일 4시간`."""
    m = max(0, int(round(seconds / 60.0)))
    d, rem = divmod(m, 1440)
    h, mi = divmod(rem, 60)
    if d:
        return f"{d}일 {h}시간" if h else f"{d}일"
    if h:
        return f"{h}시간 {mi}분" if mi else f"{h}시간"
    return f"{mi}분"


#: key -> (English, Korean). `{x}` takes a param as is; `{x:dur}` renders seconds as a duration.
CATALOG: dict[str, tuple[str, str]] = {
    "inactivity.rhythm": (
        "No sign of life for {silence:dur} (since {since}). At this hour there is usually one "
        "every {every:dur}.",
        "{silence:dur} 동안 생활 반응이 없습니다 ({since} 이후). 이 시간대에는 보통 {every:dur}에 "
        "한 번 반응이 있습니다.",
    ),
    "inactivity.rest": (
        "No sign of life for {silence:dur} (since {since}). Usually up and about by {wake}; it "
        "is now {now}.",
        "{silence:dur} 동안 생활 반응이 없습니다 ({since} 이후). 평소 {wake}쯤 활동을 시작하는데 "
        "지금은 {now}입니다.",
    ),
    "inactivity.fixed": (
        "No sign of life for {silence:dur} (since {since}); fixed {threshold:dur} threshold "
        "while this home's rhythm is still being learned.",
        "{silence:dur} 동안 생활 반응이 없습니다 ({since} 이후). 생활 패턴을 학습하는 중이라 "
        "고정 기준({threshold:dur})을 적용했습니다.",
    ),
    "inactivity.day": (
        "No sign of life for {silence:dur} (since {since}).",
        "{silence:dur} 동안 생활 반응이 없습니다 ({since} 이후).",
    ),
    "overdue_return": (
        "Left home at {since} and has not come back for {away:dur}; recent outings lasted at "
        "most {usual:dur}.",
        "{since}에 외출한 뒤 {away:dur} 동안 귀가하지 않았습니다. 최근 외출은 길어야 "
        "{usual:dur}였습니다.",
    ),
    "overdue_return.back": (
        "Left home at {since} and has not come back for {away:dur}; after outings like this "
        "one they are usually back by {back}.",
        "{since}에 외출한 뒤 {away:dur} 동안 귀가하지 않았습니다. 이런 외출 뒤에는 보통 "
        "{back}까지 귀가합니다.",
    ),
    "overdue_return.new": (
        "Left home at {since} and has not come back for {away:dur}.",
        "{since}에 외출한 뒤 {away:dur} 동안 귀가하지 않았습니다.",
    ),
    "isolation": (
        "Has not left home for {days} days (last time out: {since}).",
        "{days}일 동안 외출하지 않았습니다 (마지막 외출: {since}).",
    ),
    "wandering": (
        "The front door opened at {since}, during usual sleeping hours, and there has been no "
        "sign of a return for {away:dur}.",
        "평소 잠자는 시간인 {since}에 현관문이 열린 뒤 {away:dur} 동안 귀가 반응이 없습니다.",
    ),
    "vitals": (
        "{metric} {value} is outside this resident's usual range ({low}–{high}).",
        "{metric_ko} {value}이(가) 평소 범위({low}–{high})를 벗어났습니다.",
    ),
    "sos": (
        "The SOS button was pressed at {since}.",
        "{since}에 응급(SOS) 버튼이 눌렸습니다.",
    ),
    "heat": (
        "Indoor temperature {temp} °C for {span:dur}: heat risk.",
        "실내 온도 {temp}°C가 {span:dur} 동안 이어졌습니다: 폭염 위험.",
    ),
    "cold": (
        "Indoor temperature {temp} °C for {span:dur}: cold risk.",
        "실내 온도 {temp}°C가 {span:dur} 동안 이어졌습니다: 한랭 위험.",
    ),
    "power_anomaly.flat": (
        "No appliance switched on for {silence:dur} (power use flat since {since}).",
        "{silence:dur} 동안 가전 사용이 없습니다 ({since} 이후 전력 사용 변화 없음).",
    ),
    "power_anomaly.low": (
        "Power use over the last 50 h is {pct}% of usual.",
        "최근 50시간 전력 사용량이 평소의 {pct}%입니다.",
    ),
    "device.gateway_offline": (
        "The home's gateway has been offline since {since} ({span:dur}); this home cannot be "
        "watched until it is back. Not an inactivity alarm.",
        "{since}부터 게이트웨이가 꺼져 있습니다 ({span:dur}). 복구될 때까지 이 가구는 "
        "모니터링되지 않습니다. 무활동 경보가 아닙니다.",
    ),
    "device.offline": (
        "Device {device} has not reported since {since} ({span:dur}).",
        "기기 {device}이(가) {since} 이후 {span:dur} 동안 응답이 없습니다.",
    ),
    "device.low_battery": (
        "Device {device} battery is at {pct}%.",
        "기기 {device}의 배터리가 {pct}%입니다.",
    ),
    "device.stuck": (
        "Motion sensor {device} has reported motion without a pause since {since}; it is "
        "ignored as a sign of life until it recovers.",
        "동작 감지기 {device}이(가) {since}부터 쉬지 않고 동작을 보고합니다. 복구될 때까지 생활 "
        "반응으로 보지 않습니다.",
    ),
    "device.silent": (
        "Sensor {device} usually fires every day but has been silent for {span:dur} while the "
        "rest of the home is active.",
        "센서 {device}은(는) 평소 매일 반응하지만 다른 센서가 활동하는 동안 {span:dur} 동안 "
        "조용합니다.",
    ),
}


def _render(template: str, params: Mapping[str, Any], dur: Any) -> str:
    out = template
    for k, v in params.items():
        out = out.replace("{" + k + ":dur}", dur(float(v)) if isinstance(v, int | float) else "")
        out = out.replace("{" + k + "}", str(v))
    return out


def explain(key: str, **params: Any) -> Explanation:
    en, ko = CATALOG[key]
    return Explanation(key, params, _render(en, params, duration_en),
                       _render(ko, params, duration_ko))
