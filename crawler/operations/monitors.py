"""Monitors that run when a crawl closes (Spidermon): did the run go right, does the portal still look like itself?

The run recorder (`crawler.operations.runs`) runs `PortalMonitorSuite` once the run's outcome and counts
are known, with the run's own figures (`data.run`) and the portal's recent history in
`crawl_runs` (`data.history`, newest first). Each monitor compares this run with the runs
before it; thresholds are `MONITOR_*` settings. The results go into the run's `crawl_runs`
document (`monitors`); the recorder sends one alert for a run with failures
(`crawler.operations.alerts`): the job log always, e-mail and a webhook when configured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise
from statistics import median
from typing import Any

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.settings import MONITOR

# Record fields watched for a drop in how often they are filled (`qr.payload`: nested fields).
FILL_FIELDS = ("title", "published_at", "author", "source", "body_text", "images", "summary", "categories",
               "qr.payload", "qr.matches_url")
_COVERAGE = "spidermon_item_scraped_count/ArticleItem"
STATUS = MONITOR.STATUS


def fill_rates(stats: dict[str, Any], fields: Iterable[str] = FILL_FIELDS) -> tuple[int, dict[str, float]]:
    """(articles stored, share of them with each field filled), from Spidermon's field coverage counts."""
    total = int(stats.get(_COVERAGE, 0))
    if not total:
        return 0, {}
    return total, {name: round(stats.get(f"{_COVERAGE}/{name.replace('.', '/')}", 0) / total, 4) for name in fields}


def stored_fill_rates(docs: Iterable[dict], fields: Iterable[str] = FILL_FIELDS) -> tuple[int, dict[str, float]]:
    """(articles, share of them with each field filled) over stored records, counted as Spidermon counts an item's
    fields (present and not None; `qr.payload` inside `qr`): the baseline when no earlier run was a good one."""
    fields = tuple(fields)
    total, filled = 0, dict.fromkeys(fields, 0)
    for doc in docs:
        total += 1
        for name in fields:
            value: Any = doc
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            filled[name] += value is not None
    return total, {name: round(n / total, 4) for name, n in filled.items()} if total else {}


def good_runs(history: Iterable[dict], kind: str | None = None) -> list[dict]:
    """Earlier runs that finished cleanly with no failed monitor (of one kind: `full` or `incremental`), newest first."""
    return [r for r in history if r.get("state") == "finished" and not (r.get("monitors") or {}).get("failed")
            and (kind is None or r.get("kind") == kind)]


def fill_baseline_runs(history: Iterable[dict], minimum: float) -> list[dict]:
    """The runs the fill-rate monitor compares with: the last three good ones that stored at least `minimum` articles.
    With none, the records stored before the run stand for one (the run recorder reads them only then)."""
    return [r for r in good_runs(history) if r.get("items", 0) >= minimum][:3]


class RunMonitor(Monitor):
    """What the monitors share: this run, the runs before it, the thresholds."""

    @property
    def this_run(self) -> dict:  # not `run`: that is unittest's
        return self.data.run

    @property
    def history(self) -> list[dict]:
        return self.data.history

    def setting(self, name: str) -> float:
        return self.data.crawler.settings.getfloat(name)

    def good_runs(self, kind: str | None = None) -> list[dict]:
        return good_runs(self.history, kind)


@monitors.name("Run")
class RunOutcomeMonitor(RunMonitor):
    @monitors.name("the run finished cleanly")
    def test_finished(self) -> None:
        run = self.this_run
        if run["state"] != "finished":
            self.fail(f"{run['spider']} ended {run['state']}: {run.get('state_reason')}")

    @monitors.name("no write was spilled")
    def test_nothing_spilled(self) -> None:
        self.assertEqual(self.this_run["counts"]["writes_spilled"], 0,
                         f"{self.this_run['counts']['writes_spilled']} writes were spilled (MongoDB away); the next run replays them")


@monitors.name("Volume")
class VolumeMonitor(RunMonitor):
    @monitors.name("stored about as much as the runs before it")
    def test_volume(self) -> None:
        kind = self.this_run["kind"]
        earlier = [volume(r) for r in self.good_runs(kind)[: int(self.setting("MONITOR_HISTORY_RUNS"))]]
        if not earlier or median(earlier) < self.setting("MONITOR_VOLUME_MIN_BASELINE"):
            self.skipTest("no baseline yet")
        now, usual = volume(self.this_run), median(earlier)
        spider = self.this_run["spider"]
        self.assertGreaterEqual(now, usual * self.setting("MONITOR_VOLUME_MIN_RATIO"),
                                f"{spider}: this {kind} run stored {now} articles, the last {kind} runs {usual:g} (median)")


def volume(run: dict) -> int:
    """Articles a run stored: every one it fetched whole (full), what was new or changed (incremental)."""
    counts = run.get("counts", {})
    extra = counts.get("articles_unchanged", 0) if run.get("kind") == "full" else 0
    return counts.get("articles_new", 0) + counts.get("articles_changed", 0) + extra


def chance_of_at_most(filled: int, items: int, usual_rate: float) -> float:
    """The chance that `items` articles, each filled at the usual rate, fill the field `filled` times or fewer (binomial)."""
    if usual_rate >= 1.0:
        return 1.0 if filled >= items else 0.0
    if usual_rate <= 0.0:
        return 1.0
    log_p, log_q = math.log(usual_rate), math.log1p(-usual_rate)
    return min(1.0, sum(math.exp(math.lgamma(items + 1) - math.lgamma(i + 1) - math.lgamma(items - i + 1) + i * log_p
                                 + (items - i) * log_q) for i in range(filled + 1)))


@monitors.name("Fill rates")
class FillRateMonitor(RunMonitor):
    @monitors.name("every watched field is filled as often as before")
    def test_fill_rates(self) -> None:
        minimum = self.setting("MONITOR_FILL_MIN_ITEMS")
        if self.this_run["items"] < minimum:
            self.skipTest(f"only {self.this_run['items']} articles stored")
        earlier = fill_baseline_runs(self.history, minimum)
        baseline = "the last runs"
        stored_items, stored_rates = getattr(self.data, "stored_fill", (0, {}))
        if not earlier and stored_items >= minimum:
            # No earlier good run (a first run, or every earlier one flagged): the records already stored stand for one.
            earlier, baseline = [{"fill_rates": stored_rates}], f"the {stored_items} records stored before this run"
        if not earlier:
            self.skipTest("no baseline yet")
        drops = []
        items = self.this_run["items"]
        for name, now in self.this_run["fill_rates"].items():
            before = sum(r["fill_rates"].get(name, 0) for r in earlier) / len(earlier)
            # A drop counts when it is large and a run this size would rarely show it by chance
            # (a day of seven articles, three without photos, is not a markup change).
            chance = chance_of_at_most(round(now * items), items, before)
            if before - now > self.setting("MONITOR_FILL_DROP") and chance < self.setting("MONITOR_FILL_SIGNIFICANCE"):
                drops.append(f"{name} {before:.0%} → {now:.0%}")
        self.this_run["fill_drops"] = [d.split(" ", 1)[0] for d in drops]
        self.assertFalse(drops, f"{self.this_run['spider']}: fields filled far less often than in {baseline} "
                                f"(has the portal's markup changed?): {', '.join(drops)}")


@monitors.name("Push-back and failures")
class PushbackMonitor(RunMonitor):
    def rate(self, part: float, whole: float) -> float:
        return part / whole if whole else 0.0

    def share_of_articles(self, count_name: str) -> float:
        """A count's share of the articles this run fetched (stored, unchanged or rejected)."""
        counts = self.this_run["counts"]
        seen = counts["articles_new"] + counts["articles_changed"] + counts["articles_unchanged"] + counts["articles_rejected"]
        return self.rate(counts.get(count_name, 0), seen)

    @monitors.name("few records rejected")
    def test_rejects(self) -> None:
        share = self.share_of_articles("articles_rejected")
        self.assertLessEqual(share, self.setting("MONITOR_REJECT_RATE_MAX"),
                             f"{self.this_run['spider']}: {share:.0%} of the articles fetched were rejected "
                             f"({self.this_run.get('rejects_by_reason')})")

    @monitors.name("few pages unreadable")
    def test_unreadable_pages(self) -> None:
        share = self.share_of_articles("articles_parse_errors")
        self.assertLessEqual(share, self.setting("MONITOR_PARSE_ERROR_RATE_MAX"),
                             f"{self.this_run['spider']}: {share:.0%} of the articles fetched could not be read "
                             f"({self.this_run['counts'].get('articles_parse_errors', 0)} parse errors; see the rejects `parse_error:…`)")

    @monitors.name("few fetches failed")
    def test_fetch_failures(self) -> None:
        counts = self.this_run["counts"]
        share = self.rate(counts["fetch_failures"] + counts["retries_exhausted"], counts["requests"])
        self.assertLessEqual(share, self.setting("MONITOR_FETCH_FAILURE_RATE_MAX"),
                             f"{self.this_run['spider']}: {share:.0%} of requests failed for good "
                             f"({counts['fetch_failures']} pages, {counts['retries_exhausted']} retries exhausted)")

    @monitors.name("the portal does not push back")
    def test_pushback(self) -> None:
        stats = self.data.stats
        refused = stats.get("downloader/response_status_count/403", 0) + stats.get("downloader/response_status_count/429", 0)
        share = self.rate(refused, stats.get("downloader/response_count", 0))
        self.assertLessEqual(share, self.setting("MONITOR_PUSHBACK_RATE_MAX"),
                             f"{self.this_run['spider']}: {share:.0%} of answers were 403 or 429: the portal is pushing back")

    @monitors.name("the browser check is passed")
    def test_browser_check(self) -> None:
        failed = self.data.stats.get("browser_check/failed", 0)
        self.assertEqual(failed, 0, f"{self.this_run['spider']}: {failed} requests could not pass the portal's browser check")


@monitors.name("Freshness")
class FreshnessMonitor(RunMonitor):
    @monitors.name("the portal published within its usual gap")
    def test_fresh(self) -> None:
        dates: list[datetime] = self.data.recent_dates  # newest first, as stored
        now: datetime = self.data.portal_now
        if len(dates) < 5 or now is None:
            self.skipTest("too few articles to know the portal's rhythm")
        gaps = sorted((a - b).total_seconds() / 3600 for a, b in pairwise(dates))
        usual = gaps[int(0.9 * (len(gaps) - 1))]
        allowed = max(usual * self.setting("MONITOR_STALE_FACTOR"), self.setting("MONITOR_STALE_MIN_HOURS"))
        age = (now - dates[0]).total_seconds() / 3600
        self.assertLessEqual(age, allowed, f"{self.this_run['spider']}: no new article for {age / 24:.1f} days "
                                           f"(usual gap up to {usual / 24:.1f} days; allowed {allowed / 24:.1f})")


class PortalMonitorSuite(MonitorSuite):
    monitors = [RunOutcomeMonitor, VolumeMonitor, FillRateMonitor, PushbackMonitor, FreshnessMonitor]


def results_of(result: Any) -> dict[str, list]:
    """A Spidermon result as `crawl_runs.monitors` keeps it: the checks passed, failed (with why) and skipped."""
    def named(status: str) -> list:
        return [r for r in result.monitor_results if r.status == status]

    failed = named(STATUS.FAILURE) + named(STATUS.ERROR)
    return {
        "passed": sorted(r.item.name for r in named(STATUS.SUCCESS)),
        "failed": [{"monitor": r.item.name, "message": first_line(r.reason or r.error)} for r in failed],
        "skipped": sorted(r.item.name for r in named(STATUS.SKIPPED)),
    }


def first_line(reason: Any) -> str:
    text = str(reason or "")
    marker = "AssertionError: "
    if marker in text:
        text = text.rsplit(marker, 1)[1]
    return text.strip().split("\n")[0].split(" : ", 1)[-1]
