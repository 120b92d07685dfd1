"""`python -m crawler health`: one line per spider from `crawl_runs`, and an exit status for cron or Nagios.

Exit status: 0 all is well; 1 a monitor failed on a spider's last run, its last run did not
finish cleanly, or its last successful run is older than `--max-age` hours; 2 MongoDB cannot
be read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from pymongo.database import Database

OK, PROBLEM, UNREADABLE = 0, 1, 2


@dataclass
class SpiderHealth:
    spider: str
    last_run: str | None
    last_state: str | None
    last_started_at: datetime | None
    failed_monitors: list[dict]
    last_success_at: datetime | None
    last_success_age_hours: float | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        age = f"{self.last_success_age_hours:.1f} h ago" if self.last_success_age_hours is not None else "never"
        head = f"{'OK' if self.ok else 'PROBLEM':<8}{self.spider:<18} last run {self.last_state or 'none'}"
        when = f" ({self.last_started_at:%Y-%m-%d %H:%M} UTC)" if self.last_started_at else ""
        tail = f"; last success {age}" + ("" if self.ok else "; " + "; ".join(self.problems))
        return head + when + tail

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("last_started_at", "last_success_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data | {"ok": self.ok}


def spider_health(db: Database, spider: str, now: datetime, max_age_hours: float) -> SpiderHealth:
    crawls = {"spider": spider, "kind": {"$ne": "reparse"}}  # a re-extraction from the archive is not a crawl of the portal
    last = db.crawl_runs.find_one({**crawls, "state": {"$ne": "running"}}, sort=[("started_at", -1)])
    # A success: finished cleanly, and no monitor failed (or monitors were off for that run).
    success = db.crawl_runs.find_one({**crawls, "state": "finished",
                                      "$or": [{"monitors": {"$exists": False}}, {"monitors.failed": {"$size": 0}}]},
                                     sort=[("started_at", -1)])
    problems = []
    failed = (last or {}).get("monitors", {}).get("failed", []) if last else []
    if last is None:
        problems.append("no run recorded")
    else:
        if last.get("state") != "finished":
            problems.append(f"last run {last.get('state')}: {last.get('state_reason')}")
        problems += [f"{f['monitor']}: {f['message']}" for f in failed]
    success_at = success.get("finished_at") if success else None
    age = (now - success_at).total_seconds() / 3600 if success_at else None
    if last is not None and (age is None or age > max_age_hours):
        problems.append(f"no successful run for {age:.0f} h (limit {max_age_hours:g} h)" if age is not None else "no successful run yet")
    return SpiderHealth(spider, last and last["_id"], last and last.get("state"), last and last.get("started_at"), failed,
                        success_at, round(age, 2) if age is not None else None, problems)
