"""Korean and English for the dashboard: the message catalogue and locale-aware formatting.

Korean is the default. Dates, times and durations are formatted by Babel (CLDR data) in the
user's language and the household's time zone, so "2시간 13분 전" and "2 hr, 13 min ago" come
from the same code. The browser updates relative times with the same words (see app.js).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.units import format_unit

LANGS = ("ko", "en")
DEFAULT = "ko"
SEOUL = ZoneInfo("Asia/Seoul")

#: message id -> (Korean, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("안부", "anbu"),
    "app.tagline": ("1인 가구 안부 확인", "Wellbeing checks for people who live alone"),
    "nav.board": ("현황판", "Board"),
    "nav.alerts": ("알림", "Alerts"),
    "nav.field": ("현장", "Field"),
    "nav.logout": ("로그아웃", "Log out"),
    "nav.lang": ("English", "한국어"),
    "login.title": ("직원 로그인", "Staff login"),
    "login.username": ("아이디", "Username"),
    "login.password": ("비밀번호", "Password"),
    "login.submit": ("로그인", "Log in"),
    "login.failed": ("아이디 또는 비밀번호가 틀렸습니다", "Wrong username or password"),
    "board.title": ("가구 현황", "Households"),
    "board.count": ("{shown} / {total}가구", "{shown} of {total} households"),
    "board.search": ("이름·주소·ID 검색", "Search name, address, ID"),
    "board.filter": ("적용", "Apply"),
    "board.clear": ("초기화", "Clear"),
    "board.all": ("전체", "All"),
    "board.empty": ("조건에 맞는 가구가 없습니다", "No households match"),
    "board.all_alerts": ("전체 보기", "See all"),
    "board.live": ("실시간", "Live"),
    "board.offline": ("연결 끊김 — 재연결 중", "Disconnected — reconnecting"),
    "board.trend": ("주간 활동", "Weekly activity"),
    "board.declining": ("활동 감소 추세", "Declining activity"),
    "board.declining_hint": (
        "주간 활동 보고에서 활동이 서서히 줄고 있는 가구 (다음 방문 때 확인; 긴급 알림 아님)",
        "Homes whose weekly report shows a slow decline (review at the next visit; not an alarm)",
    ),
    "col.state": ("상태", "State"),
    "col.household": ("가구", "Household"),
    "col.dong": ("동", "Dong"),
    "col.risk": ("위험도", "Risk"),
    "col.planner": ("담당 복지플래너", "Planner"),
    "col.last_sign": ("마지막 생활 신호", "Last sign of life"),
    "col.alerts": ("알림", "Alerts"),
    "col.kind": ("종류", "Kind"),
    "col.severity": ("등급", "Severity"),
    "col.age": ("경과", "Age"),
    "col.escalation": ("단계", "Step"),
    "col.next": ("다음 단계", "Next step"),
    "col.actions": ("조치", "Actions"),
    "col.device": ("기기", "Device"),
    "col.room": ("위치", "Room"),
    "col.battery": ("배터리", "Battery"),
    "col.signal": ("신호", "Signal"),
    "col.last_message": ("마지막 수신", "Last message"),
    "col.opened": ("발생", "Opened"),
    "col.outcome": ("결과", "Outcome"),
    "col.notes": ("메모", "Notes"),
    "state.normal": ("정상", "Normal"),
    "state.caution": ("주의", "Caution"),
    "state.alarm": ("경보", "Alarm"),
    "state.danger": ("위험", "Danger"),
    "state.device": ("기기 문제", "Device problem"),
    "state.away": ("부재", "Away"),
    "severity.caution": ("주의", "Caution"),
    "severity.alarm": ("경보", "Alarm"),
    "severity.danger": ("위험", "Danger"),
    "alert_state.open": ("미확인", "Open"),
    "alert_state.acknowledged": ("확인됨", "Acknowledged"),
    "alert_state.resolved": ("종결", "Resolved"),
    "risk.low": ("낮음", "Low"),
    "risk.medium": ("보통", "Medium"),
    "risk.high": ("높음", "High"),
    "presence.home": ("재실", "At home"),
    "presence.asleep": ("수면", "Asleep"),
    "presence.away": ("외출", "Out"),
    "presence.unknown": ("알 수 없음", "Unknown"),
    "kind.inactivity": ("무활동", "No activity"),
    "kind.overdue_return": ("귀가 지연", "Overdue return"),
    "kind.isolation": ("장기 외출 없음", "No outings"),
    "kind.wandering": ("야간 외출 후 미귀가", "Night exit, no return"),
    "kind.vitals": ("건강 수치 이상", "Vital signs"),
    "kind.sos": ("긴급 호출", "SOS"),
    "kind.heat": ("실내 고온", "Indoor heat"),
    "kind.cold": ("실내 저온", "Indoor cold"),
    "kind.power_anomaly": ("전력 사용 이상", "Power use anomaly"),
    "kind.device.offline": ("기기 오프라인", "Device offline"),
    "kind.device.gateway_offline": ("게이트웨이 오프라인", "Gateway offline"),
    "kind.device.low_battery": ("배터리 부족", "Low battery"),
    "kind.device.stuck": ("센서 고착", "Sensor stuck"),
    "kind.device.silent": ("센서 무응답", "Sensor silent"),
    "outcome.resident_fine": ("이상 없음", "Resident fine"),
    "outcome.resident_helped": ("도움 제공", "Resident helped"),
    "outcome.hospitalised": ("입원", "Hospitalised"),
    "outcome.found_deceased": ("사망 발견", "Found deceased"),
    "outcome.false_alarm_sensor": ("오경보 — 센서", "False alarm — sensor"),
    "outcome.false_alarm_away": ("오경보 — 부재", "False alarm — away"),
    "outcome.other": ("기타", "Other"),
    "outcome.auto_resolved": ("생활 신호 회복(자동)", "Signs of life returned (auto)"),
    "outcome.resident_answered": ("본인 응답", "Resident answered"),
    "away.away": ("외출·여행", "Away"),
    "away.hospital": ("입원", "Hospital stay"),
    "away.visit": ("방문 예정", "Planned visit"),
    "away.maintenance": ("기기 점검", "Maintenance"),
    "action.acknowledge": ("확인", "Acknowledge"),
    "action.resolve": ("종결", "Resolve"),
    "action.note": ("메모 추가", "Add note"),
    "action.note_placeholder": ("메모", "Note"),
    "action.call": ("전화", "Call"),
    "action.handoff": ("현장 인계", "Hand to field worker"),
    "action.handed": ("현장 인계함", "handed over"),
    "action.open": ("열기", "Open"),
    "action.choose_outcome": ("결과를 선택하세요", "Choose the outcome"),
    "action.cancel": ("취소", "Cancel"),
    "action.done": ("처리되었습니다", "Done"),
    "action.failed": ("실패", "Failed"),
    "alerts.title": ("알림 대기열", "Alert queue"),
    "alerts.empty": ("열린 알림이 없습니다", "No open alerts"),
    "alerts.step": ("{step}단계", "step {step}"),
    "alerts.overdue": ("지남", "overdue"),
    "alerts.suppressed": ("기록만 함(부재)", "Recorded only (away)"),
    "delivery.title": ("알림 전달", "Deliveries"),
    "delivery.sent": ("전달됨", "sent"),
    "delivery.pending": ("재시도 중", "retrying"),
    "delivery.failed": ("전달 실패", "failed"),
    "delivery.failed_to": (
        "전달 실패: {recipient} ({channel})",
        "Not delivered: {recipient} ({channel})",
    ),
    "banner.new": ("새 {severity}: {name} — {kind}", "New {severity}: {name} — {kind}"),
    "banner.dismiss": ("닫기", "Dismiss"),
    "household.profile": ("기본 정보", "Profile"),
    "household.address": ("주소", "Address"),
    "household.phone": ("전화", "Phone"),
    "household.born": ("출생 연도", "Born"),
    "household.district": ("자치구", "District"),
    "household.profile_name": ("모니터링 프로필", "Monitoring profile"),
    "household.consent": ("동의", "Consent"),
    "household.consent_monitoring": ("모니터링", "Monitoring"),
    "household.consent_emergency": ("응급 시 정보 제공", "Share in emergencies"),
    "household.yes": ("예", "Yes"),
    "household.no": ("아니요", "No"),
    "household.planner": ("담당", "Planner"),
    "household.backup": ("보조", "Backup"),
    "household.presence": ("현재 상태", "Now"),
    "household.devices": ("기기", "Devices"),
    "household.timeline": ("최근 24시간 생활 신호", "Signs of life, last 24 h"),
    "household.heatmap": (
        "생활 리듬 (최근 {days}일, 시간대별)",
        "Rhythm (last {days} days, by hour)",
    ),
    "household.today_vs_usual": ("오늘과 평소 비교", "Today against usual"),
    "household.today": ("오늘", "Today"),
    "household.usual": ("평소(평균)", "Usual (mean)"),
    "household.power": ("전력 사용 (최근 7일)", "Power use (last 7 days)"),
    "household.health": ("건강 측정", "Health readings"),
    "household.health_none": ("측정 기록 없음", "No readings"),
    "household.alerts": ("알림 기록", "Alert history"),
    "household.alerts_none": ("알림 기록 없음", "No alerts"),
    "household.away": ("부재 설정", "Away mode"),
    "household.away_none": ("설정된 부재 없음", "No away window"),
    "household.away_set": ("부재 설정", "Set away"),
    "household.away_end": ("부재 종료", "End away"),
    "household.away_from": ("시작", "From"),
    "household.away_until": ("종료(선택)", "Until (optional)"),
    "household.online": ("연결됨", "Online"),
    "household.offline": ("끊김", "Offline"),
    "household.signs": ("생활 신호 수", "Signs of life"),
    "household.no_data": ("기록 없음", "No data"),
    "household.access": ("열람 기록 (최근 20건)", "Who saw this household (last 20)"),
    "col.when": ("시각", "When"),
    "col.who": ("직원", "Staff"),
    "col.action": ("내용", "Action"),
    "household.range_own": ("본인 범위", "Own range"),
    "trend.title": ("주간 활동 (최근 {weeks}주)", "Weekly activity (last {weeks} weeks)"),
    "trend.none": (
        "아직 주간 활동 보고가 없습니다. 매일 자정이 지나면 계산됩니다.",
        "No weekly report yet. It is computed after each midnight.",
    ),
    "trend.too_few": (
        "추세를 보기에 기록된 주가 부족합니다.",
        "Not enough weeks observed for a trend.",
    ),
    "trend.declining": (
        "활동 감소 — 다음 방문 때 확인해 주세요",
        "Declining — review at the next visit",
    ),
    "trend.declining_text": (
        "최근 2주의 활동이 처음 2주보다 뚜렷이 줄었습니다. "
        "긴급 알림이 아니라 사례 관리를 위한 참고 신호입니다.",
        "The last 2 weeks show clearly less activity than the first 2. "
        "A case-management signal, not an alarm.",
    ),
    "trend.reason_hours": ("활동 시간 감소", "fewer active hours"),
    "trend.reason_signs": ("생활 신호 감소", "fewer signs of life"),
    "trend.steady": ("뚜렷한 활동 감소는 없습니다.", "No sustained decline."),
    "trend.change": (
        "처음 2주 대비 최근 2주: 하루 활동 시간 {hours}, 하루 생활 신호 {signs}",
        "Last 2 weeks against the first 2: active hours a day {hours}, signs of life a day {signs}",
    ),
    "trend.computed": ("{through}까지 · {when} 계산", "Through {through} · computed {when}"),
    "trend.week": ("주 시작", "Week of"),
    "trend.days": ("기록된 날", "Days observed"),
    "trend.signs": ("하루 생활 신호", "Signs of life a day"),
    "trend.hours": ("하루 활동 시간", "Active hours a day"),
    "trend.exits": ("주간 외출", "Exits a week"),
    "trend.history": ("주별 보고 기록", "Reports by week"),
    "trend.through": ("기준일", "Through"),
    "trend.flag": ("판단", "Finding"),
    "trend.flag_declining": ("감소", "Declining"),
    "trend.flag_steady": ("유지", "Steady"),
    "household.range_clinical": ("기준 범위", "Clinical band"),
    "field.title": ("내 알림", "My alerts"),
    "field.empty": ("처리할 알림이 없습니다", "Nothing to do"),
    "field.directions": ("주소", "Address"),
    "metric.systolic_mmhg": ("수축기 혈압 (mmHg)", "Systolic (mmHg)"),
    "metric.diastolic_mmhg": ("이완기 혈압 (mmHg)", "Diastolic (mmHg)"),
    "metric.pulse_bpm": ("맥박 (bpm)", "Pulse (bpm)"),
    "metric.spo2_pct": ("산소포화도 (%)", "SpO2 (%)"),
    "metric.glucose_mg_dl": ("혈당 (mg/dL)", "Glucose (mg/dL)"),
    "metric.weight_kg": ("체중 (kg)", "Weight (kg)"),
    "metric.body_temp_c": ("체온 (°C)", "Body temperature (°C)"),
    "time.never": ("기록 없음", "never"),
    "time.ago": ("{duration} 전", "{duration} ago"),
    "time.just_now": ("방금", "just now"),
    "error.not_found": ("찾을 수 없습니다", "Not found"),
    "error.not_found_text": (
        "이 페이지가 없거나 볼 권한이 없습니다.",
        "This page does not exist or is not in your scope.",
    ),
}

#: the words the browser needs to update a page live (see app.js)
CLIENT_KEYS = (
    "time.ago",
    "time.just_now",
    "time.never",
    "banner.new",
    "action.done",
    "action.failed",
    "board.live",
    "board.offline",
    *(k for k in MESSAGES if k.startswith(("severity.", "kind."))),
)


@functools.lru_cache(maxsize=8192)
def _duration(lang: str, minutes: int) -> str:
    # cached: a board of thousands of homes formats the same few hundred durations
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts: list[str] = []
    if days >= 2:
        parts.append(format_unit(days, "duration-day", length="short", locale=lang))
        if hours:
            parts.append(format_unit(hours, "duration-hour", length="short", locale=lang))
    else:
        hours += days * 24
        if hours:
            parts.append(format_unit(hours, "duration-hour", length="short", locale=lang))
        if mins or not hours:
            parts.append(format_unit(mins, "duration-minute", length="short", locale=lang))
    return " ".join(parts)


@functools.lru_cache(maxsize=8192)
def _ago(lang: str, minutes: int) -> str:
    return Translator(lang)("time.ago", duration=_duration(lang, minutes))


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT


@dataclass(frozen=True, slots=True)
class Translator:
    lang: str

    def __call__(self, key: str, **params: object) -> str:
        pair = MESSAGES.get(key)
        if pair is None:
            text = key.split(".", 1)[-1].replace("_", " ")
        else:
            text = pair[0] if self.lang == "ko" else pair[1]
        return text.format(**params) if params else text

    def kind(self, kind: str) -> str:
        """An alert kind; device alerts carry their device after a slash."""
        base, _, device = kind.partition("/")
        label = self(f"kind.{base}")
        return f"{label} ({device})" if device else label

    def duration(self, d: timedelta) -> str:
        """Hours and minutes (days past two days), in the user's language."""
        return _duration(self.lang, max(0, int(d.total_seconds() // 60)))

    def ago(self, at: datetime | None, now: datetime) -> str:
        if at is None:
            return self("time.never")
        minutes = int((now - at).total_seconds() // 60)
        if minutes < 1:
            return self("time.just_now")
        return _ago(self.lang, minutes)

    def when(self, at: datetime | None, tz: str | ZoneInfo = SEOUL) -> str:
        if at is None:
            return "—"
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        day = format_skeleton("MMMd", at, tzinfo=zone, locale=self.lang)
        return f"{day} {format_skeleton('Hm', at, tzinfo=zone, locale=self.lang)}"

    def day(self, d: date) -> str:
        """A calendar day ("7월 27일", "Jul 27")."""
        return format_skeleton("MMMd", datetime.combine(d, datetime.min.time()),
                               locale=self.lang)

    def client_messages(self) -> dict[str, str]:
        return {k: self(k) for k in CLIENT_KEYS}
