"""The local EventBridge: invokes every `@app.schedule` handler at its rate or cron expression (UTC)."""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from devstack.lambdas import LambdaContext, ScheduledJob, scheduled_event

log = logging.getLogger("devstack.scheduler")

RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
CRON = re.compile(r"^cron\((.+)\)$", re.IGNORECASE)
UNITS = {"minute": 60, "hour": 3600, "day": 86400}
MONTHS = {name: index for index, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
WEEKDAYS = {name: index for index, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
# (lowest, highest, names) per cron field: minutes hours day-of-month month day-of-week year
CRON_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (1, 7, WEEKDAYS), (1970, 2199, {}))


class Schedule:
    note: str | None = None

    def next_after(self, moment: datetime) -> datetime | None:
        raise NotImplementedError


@dataclass
class RateSchedule(Schedule):
    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.interval


class CronSchedule(Schedule):
    """EventBridge's six-field cron; `L`, `W` and `#` are not modelled (every minute instead, with a note)."""

    def __init__(self, expression: str) -> None:
        parts = expression.split()
        if len(parts) != 6:
            raise ValueError(f"cron({expression}) needs six fields: minutes hours day-of-month month "
                             "day-of-week year")
        self.note = None
        try:
            self.allowed = [_cron_values(part, *limits) for part, limits in zip(parts, CRON_FIELDS)]
        except _Unsupported as unsupported:
            self.note = f"cron({expression}) uses {unsupported}, which the local scheduler does not model; " \
                        "it runs every minute instead"
            self.allowed = [_cron_values("*", *limits) for limits in CRON_FIELDS]

    def matches(self, moment: datetime) -> bool:
        minutes, hours, days, months, weekdays, years = self.allowed
        weekday = moment.isoweekday() % 7 + 1  # EventBridge: SUN=1 ... SAT=7
        return (moment.minute in minutes and moment.hour in hours and moment.day in days
                and moment.month in months and weekday in weekdays and moment.year in years)

    def next_after(self, moment: datetime) -> datetime | None:
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + timedelta(days=366 * 5)
        minutes, hours, days, months, weekdays, years = self.allowed
        while candidate < limit:
            weekday = candidate.isoweekday() % 7 + 1
            if not (candidate.year in years and candidate.month in months and candidate.day in days
                    and weekday in weekdays):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
            elif candidate.hour not in hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0)
            elif candidate.minute not in minutes:
                candidate += timedelta(minutes=1)
            else:
                return candidate
        return None


class _Unsupported(Exception):
    pass


def _cron_number(token: str, names: dict[str, int]) -> int:
    upper = token.upper()
    if upper in names:
        return names[upper]
    if not token.isdigit():
        raise ValueError(f"{token!r} is not a cron value")
    return int(token)


def _cron_values(field: str, lowest: int, highest: int, names: dict[str, int]) -> frozenset[int]:
    without_names = re.sub("|".join(names), "", field.upper()) if names else field.upper()
    if any(marker in without_names for marker in ("L", "W", "#")):
        raise _Unsupported(f"'{field}'")
    values: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"cron step must be positive in {field!r}")
        if body in ("*", "?"):
            start, end = lowest, highest
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _cron_number(first, names), _cron_number(last, names)
        else:
            start = _cron_number(body, names)
            end = highest if step_text else start
        if not lowest <= start <= highest or not lowest <= end <= highest or start > end:
            raise ValueError(f"cron field {field!r} is outside {lowest}-{highest}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_schedule(expression: str) -> Schedule:
    rate = RATE.match(expression.strip())
    if rate:
        count, unit = int(rate.group(1)), rate.group(2).lower().rstrip("s")
        if count < 1:
            raise ValueError(f"{expression} must be at least 1")
        return RateSchedule(timedelta(seconds=count * UNITS[unit]))
    cron = CRON.match(expression.strip())
    if cron:
        return CronSchedule(cron.group(1))
    raise ValueError(f"unknown schedule expression {expression!r}")


def invoke_job(job: ScheduledJob, rule_prefix: str, invoke_lock: Any = None, timeout_seconds: float = 60.0,
               memory_mb: int = 128) -> Any:
    """Run one scheduled handler now, with the event EventBridge would send."""
    event = scheduled_event(f"{rule_prefix}-{job.name}")
    context = LambdaContext(job.name, timeout_seconds, memory_mb)
    if invoke_lock is None:
        return job.handler(event, context)
    with invoke_lock:
        return job.handler(event, context)


class Scheduler(threading.Thread):
    """Fires each job at its schedule until `stop` is set. A rate's first run is one interval after start,
    as with a freshly created EventBridge rule."""

    def __init__(self, jobs: list[ScheduledJob], *, rule_prefix: str, stop: threading.Event | None = None,
                 invoke_lock: Any = None, now: Callable[[], datetime] | None = None,
                 limits: Callable[[str], tuple[float, int]] | None = None) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.jobs = jobs
        self.rule_prefix = rule_prefix
        self.stop_event = stop or threading.Event()
        self.invoke_lock = invoke_lock or threading.Lock()
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.limits = limits or (lambda name: (60.0, 128))
        self.schedules = {job.name: parse_schedule(job.expression) for job in jobs}
        self.due: dict[str, datetime | None] = {}
        for job in jobs:
            if self.schedules[job.name].note:
                log.warning("%s: %s", job.name, self.schedules[job.name].note)

    def run(self) -> None:
        self.start_at(self.now())
        while not self.stop_event.is_set():
            wake = self.tick(self.now())
            if wake is None:
                return
            wait = (wake - self.now()).total_seconds()
            if wait > 0 and self.stop_event.wait(min(wait, 30.0)):
                return

    def start_at(self, moment: datetime) -> None:
        self.due = {job.name: self.schedules[job.name].next_after(moment) for job in self.jobs}

    def tick(self, current: datetime) -> datetime | None:
        """Fire every job that is due at `current`; the next moment anything is due (None: never)."""
        for job in self.jobs:
            moment = self.due[job.name]
            if moment is None or moment > current or self.stop_event.is_set():
                continue
            self._fire(job)
            following = self.schedules[job.name].next_after(moment)
            # Behind schedule (a slow job, a sleeping laptop): skip the missed runs, as EventBridge does.
            while following is not None and following <= current:
                following = self.schedules[job.name].next_after(following)
            self.due[job.name] = following
        pending = [moment for moment in self.due.values() if moment is not None]
        return min(pending) if pending else None

    def _fire(self, job: ScheduledJob) -> None:
        timeout, memory = self.limits(job.name)
        began = time.monotonic()
        try:
            result = invoke_job(job, self.rule_prefix, self.invoke_lock, timeout, memory)
        except Exception:  # noqa: BLE001 - a failed run is logged; the next one comes at its time
            log.exception("scheduled %s failed", job.name)
            return
        log.info("scheduled %s ran in %.2f s: %s", job.name, time.monotonic() - began, result)
