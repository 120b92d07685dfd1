"""Each portal's last run, as Prometheus metrics (prometheus_client), for node_exporter's textfile collector.

`python -m crawler metrics --out /var/lib/node_exporter/textfile/haiphong.prom`, from cron, writes
them atomically. Every metric has a `spider` label.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge
from pymongo.database import Database

from crawler.operations.health import last_runs, spilled_writes

STATES = ("finished", "failed", "shutdown", "interrupted", "refused", "running")


def registry_for(db: Database | None, spiders: list[str], spill_dir: Path) -> CollectorRegistry:
    """The metrics of every spider; with no database (MongoDB unreadable), `haiphong_crawler_up 0` and the spill counts."""
    registry = CollectorRegistry()

    def gauge(name: str, text: str, labels: tuple[str, ...] = ("spider",)) -> Gauge:
        return Gauge(f"haiphong_crawler_{name}", text, labels, registry=registry)

    up = Gauge("haiphong_crawler_up", "1 when MongoDB could be read for these metrics", registry=registry)
    spilled = gauge("spilled_writes", "writes waiting in spill files (not yet in MongoDB)")
    for spider in spiders:
        spilled.labels(spider).set(spilled_writes(spill_dir, spider))
    up.set(0 if db is None else 1)
    if db is None:
        return registry
    state = gauge("last_run_state", "1 for the state the spider's last run ended in", ("spider", "state"))
    exit_code = gauge("last_run_exit_code", "exit status of the last run (0 finished cleanly)")
    started = gauge("last_run_start_timestamp_seconds", "when the last run started")
    duration = gauge("last_run_duration_seconds", "how long the last run took")
    success = gauge("last_success_timestamp_seconds", "when the last run that finished cleanly with no failed monitor ended")
    stored = gauge("articles_stored", "articles of the portal in MongoDB, removed ones excluded")
    rejects = gauge("rejects", "records in rejects for the portal")
    run_counts = gauge("last_run_count", "a count of the last run (crawl_runs.counts)", ("spider", "count"))
    version = gauge("version_info", "the deployed version that ran the last run", ("spider", "version"))
    failed_monitors = gauge("last_run_failed_monitors", "monitors that failed on the last run")
    for spider in spiders:
        last, good = last_runs(db, spider)
        stored.labels(spider).set(db.articles.count_documents({"site": spider, "removed_at": None}))
        rejects.labels(spider).set(db.rejects.count_documents({"site": spider}))
        if good and good.get("finished_at"):
            success.labels(spider).set(good["finished_at"].timestamp())
        if last is None:
            continue
        for name in STATES:
            state.labels(spider, name).set(1 if last.get("state") == name else 0)
        exit_code.labels(spider).set(last.get("exit_code") or 0)
        if last.get("started_at"):
            started.labels(spider).set(last["started_at"].timestamp())
            if last.get("finished_at"):
                duration.labels(spider).set((last["finished_at"] - last["started_at"]).total_seconds())
        for name in ("articles_new", "articles_changed", "articles_rejected", "fetch_failures", "writes_spilled", "requests"):
            run_counts.labels(spider, name).set(last.get("counts", {}).get(name, 0))
        failed_monitors.labels(spider).set(len(last.get("monitors", {}).get("failed", [])))
        version.labels(spider, str(last.get("version") or "unknown")).set(1)
    return registry
