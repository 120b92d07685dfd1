"""`python -m crawler health`: each spider's state from `crawl_runs`, the spill folder and the leases, for a
person, cron, or a monitoring system (Nagios, Icinga, Zabbix, Sensu: the monitoring-plugins convention).

The first line on stdout is always one summary (`CRAWLER OK - …`), then one line per spider. Exit status:
0 OK; 1 WARNING: a monitor failed on the last run, the last run was stopped or refused (its lease held),
a lease is held past its expiry (a killed job), or no run is recorded yet; 2 CRITICAL: the last run failed
or was interrupted, no successful run for `--max-age` hours, or writes wait in spill files (data not yet
in MongoDB); 3 UNKNOWN: MongoDB cannot be read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from pymongo.database import Database

from crawler.operations import lease
from crawler.storage.durable import spill_files

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
LEVELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# How bad the last run's state is; `finished` is judged by its monitors.
STATE_LEVEL = {"failed": CRITICAL, "interrupted": CRITICAL, "shutdown": WARNING, "refused": WARNING}


@dataclass
class SpiderHealth:
    spider: str
    last_run: str | None
    last_state: str | None
    last_started_at: datetime | None
    last_version: str | None
    failed_monitors: list[dict]
    last_success_at: datetime | None
    last_success_age_hours: float | None
    spilled_writes: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def level(self) -> int:
        return max((level for level, _ in self.problems), default=OK)

    @property
    def ok(self) -> bool:
        return self.level == OK

    def line(self) -> str:
        age = f"{self.last_success_age_hours:.1f} h ago" if self.last_success_age_hours is not None else "never"
        head = f"{LEVELS[self.level]:<9}{self.spider:<18} last run {self.last_state or 'none'}"
        when = f" ({self.last_started_at:%Y-%m-%d %H:%M} UTC, version {self.last_version or '?'})" if self.last_started_at else ""
        tail = f"; last success {age}" + "".join(f"; {text}" for _, text in self.problems)
        return head + when + tail

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("last_started_at", "last_success_at"):
            data[key] = data[key].isoformat() if data[key] else None
        data["problems"] = [{"level": LEVELS[level], "problem": text} for level, text in self.problems]
        return data | {"ok": self.ok, "level": LEVELS[self.level]}


def spilled_writes(spill_dir: Path, spider: str) -> int:
    """Writes waiting in the spider's spill files (a line a write job)."""
    total = 0
    for path in spill_files(spill_dir, spider):
        with path.open("rb") as lines:
            total += sum(1 for _ in lines)
    return total


def last_runs(db: Database, spider: str) -> tuple[dict | None, dict | None]:
    """(the spider's last crawl that ended, its last successful one): what `health` and `metrics` both report."""
    crawls = {"spider": spider, "kind": {"$ne": "reparse"}}  # a re-extraction from the archive is not a crawl of the portal
    last = db.crawl_runs.find_one({**crawls, "state": {"$ne": "running"}}, sort=[("started_at", -1)])
    # A success: finished cleanly, and no monitor failed (or monitors were off for that run).
    success = db.crawl_runs.find_one({**crawls, "state": "finished",
                                      "$or": [{"monitors": {"$exists": False}}, {"monitors.failed": {"$size": 0}}]},
                                     sort=[("started_at", -1)])
    return last, success


def spider_health(db: Database, spider: str, now: datetime, max_age_hours: float, spill_dir: Path | None = None) -> SpiderHealth:
    last, success = last_runs(db, spider)
    problems: list[tuple[int, str]] = []
    failed = (last or {}).get("monitors", {}).get("failed", []) if last else []
    if last is None:
        problems.append((WARNING, "no run recorded"))
    else:
        if last.get("state") != "finished":
            problems.append((STATE_LEVEL.get(last.get("state"), CRITICAL), f"last run {last.get('state')}: {last.get('state_reason')}"))
        problems += [(WARNING, f"{f['monitor']}: {f['message']}") for f in failed]
    success_at = success.get("finished_at") if success else None
    age = (now - success_at).total_seconds() / 3600 if success_at else None
    if last is not None and (age is None or age > max_age_hours):
        problems.append((CRITICAL, f"no successful run for {age:.0f} h (limit {max_age_hours:g} h)" if age is not None
                         else "no successful run yet"))
    held = lease.current(db, spider)
    if held is not None and held.expired(now):
        problems.append((WARNING, f"lease held past its expiry by {held.describe(now)}"))
    spilled = spilled_writes(spill_dir, spider) if spill_dir is not None else 0
    if spilled:
        said = "1 write waits" if spilled == 1 else f"{spilled} writes wait"
        problems.append((CRITICAL, f"{said} in spill files under {spill_dir} (python -m crawler replay-spill)"))
    return SpiderHealth(spider, last and last["_id"], last and last.get("state"), last and last.get("started_at"),
                        last and last.get("version"), failed, success_at, round(age, 2) if age is not None else None,
                        spilled, problems)


def summary(report: list[SpiderHealth]) -> tuple[int, str]:
    """(exit status, the first line for a monitoring system): the worst spider decides."""
    level = max((h.level for h in report), default=UNKNOWN)
    if level == OK:
        said = ", ".join(f"{h.spider} last success {h.last_success_age_hours:.1f} h ago" for h in report)
    else:
        said = "; ".join(f"{h.spider}: " + ", ".join(text for worst, text in h.problems if worst == level)
                         for h in report if h.level == level)
    return level, f"CRAWLER {LEVELS[level]} - {said}"[:400]
