"""`python -m crawler health` and the fill rates the monitors compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.operations.health import spider_health
from crawler.operations.monitors import fill_rates
from tests.helpers import fresh_db

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def run(spider: str, hours_ago: float, state: str = "finished", failed: list | None = None) -> dict:
    started = NOW - timedelta(hours=hours_ago)
    return {"_id": f"{spider}:{hours_ago}", "spider": spider, "started_at": started, "finished_at": started + timedelta(minutes=5),
            "state": state, "state_reason": None if state == "finished" else "stopped by a signal",
            "monitors": {"passed": [], "failed": failed or [], "skipped": []}}


def test_health_names_what_is_wrong_with_each_spider(mongo_uri):
    db = fresh_db(mongo_uri, "health")
    drop = {"monitor": "Fill rates/every watched field is filled as often as before", "message": "author 58% → 0%"}
    db.crawl_runs.insert_many([
        run("thanhphohaiphong", 30), run("thanhphohaiphong", 2),
        run("congan_haiphong", 30), run("congan_haiphong", 2, failed=[drop]),
        run("other", 50), run("other", 1, state="shutdown"),
    ])
    good = spider_health(db, "thanhphohaiphong", NOW, max_age_hours=36)
    assert good.ok and good.last_success_age_hours < 2
    drifted = spider_health(db, "congan_haiphong", NOW, max_age_hours=36)
    assert not drifted.ok and "author 58% → 0%" in drifted.line() and drifted.line().startswith("PROBLEM")
    assert drifted.last_success_age_hours > 29  # the run that failed a monitor is no success
    stopped = spider_health(db, "other", NOW, max_age_hours=36)
    assert [p.split(":")[0] for p in stopped.problems] == ["last run shutdown", "no successful run for 50 h (limit 36 h)"]
    assert not spider_health(db, "nobody", NOW, max_age_hours=36).ok
    unmonitored = run("quiet", 1)
    del unmonitored["monitors"]  # PORTAL_MONITORS_ENABLED=0
    db.crawl_runs.insert_one(unmonitored)
    assert spider_health(db, "quiet", NOW, max_age_hours=36).ok
    db.client.close()


def test_health_exits_2_when_mongodb_cannot_be_read_and_speaks_json_when_asked(mongo_uri, tmp_path):
    def health(uri: str, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "MONGO_URI": uri, "MONGO_DATABASE": "health_cli"}
        return subprocess.run([sys.executable, "-m", "crawler", "health", "--timeout", "1", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    down = health("mongodb://127.0.0.1:9/")
    assert down.returncode == 2 and "cannot read crawl_runs" in down.stderr and "Traceback" not in down.stderr
    db = fresh_db(mongo_uri, "health_cli")
    db.crawl_runs.insert_one(run("thanhphohaiphong", 1) | {"started_at": datetime.now(UTC), "finished_at": datetime.now(UTC)})
    answer = health(mongo_uri, "--json", "--spider", "thanhphohaiphong")
    assert answer.returncode == 0, answer.stderr
    [spider] = json.loads(answer.stdout)
    assert spider["ok"] and spider["last_state"] == "finished"
    assert health(mongo_uri).returncode == 1  # the police spider has no run at all
    db.client.close()


def test_fill_rates_come_from_spidermons_field_coverage():
    stats = {"spidermon_item_scraped_count/ArticleItem": 40, "spidermon_item_scraped_count/ArticleItem/author": 10,
             "spidermon_item_scraped_count/ArticleItem/qr/payload": 40}
    items, rates = fill_rates(stats, ("author", "qr.payload", "summary"))
    assert items == 40 and rates == {"author": 0.25, "qr.payload": 1.0, "summary": 0.0}
    assert fill_rates({}) == (0, {})
