"""The portal changes its markup: the monitors notice, alerts arrive by e-mail and webhook, health says so,
the next normal day clears it, and a new parser layout reads the changed pages in full."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from replica.corpus import CITY
from replica.drills import MongoProcess, database, start_crawl
from replica.server import Replica, ReplicaOptions

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
PINNED_2019 = json.dumps({CITY: "2019"})  # the parser as it was before the 2027 layout was added


def health(mongo: MongoProcess, database_name: str) -> tuple[int, str]:
    env = {**os.environ, "MONGO_URI": mongo.uri, "MONGO_DATABASE": database_name}
    done = subprocess.run([sys.executable, "-m", "crawler", "health", "--spider", CITY], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout + done.stderr


def test_a_markup_change_is_caught_alerted_cleared_and_read_by_a_new_layout(tmp_path, inbox, webhook):
    handler, smtp_port = inbox
    posts, hook_url = webhook
    alerts = {"PORTAL_ALERT_EMAIL_TO": "analysts@example.org", "PORTAL_ALERT_SMTP_HOST": "127.0.0.1",
              "PORTAL_ALERT_SMTP_PORT": str(smtp_port), "PORTAL_ALERT_WEBHOOK_URL": hook_url}
    small_days = {"MONITOR_FILL_MIN_ITEMS": "5"}  # a replica day brings a handful of articles, the portal dozens
    mongo = MongoProcess(tmp_path / "mongo").start()
    options = ReplicaOptions(articles_per_site=300, fault_rate=0.0, drift_from_day=1, drift_until_day=2)
    try:
        with Replica(options) as replica:
            db = database(mongo.uri, "drift")

            def crawl(**settings: str) -> dict:
                run = start_crawl(CITY, replica, mongo.uri, db.name, tmp_path / "data", settings={**small_days, **settings}, env=alerts)
                assert run.wait() == 0, run.log[-3000:]
                return db.crawl_runs.find_one({"spider": CITY}, sort=[("started_at", -1)])

            normal = crawl(PORTAL_PARSER_PIN=PINNED_2019)
            assert normal["monitors"]["failed"] == [] and normal["fill_rates"]["author"] > 0.4
            code, said = health(mongo, db.name)
            assert code == 0, said
            (tmp_path / "health-normal-day.txt").write_text(said, encoding="utf-8")

            replica.advance_day()  # day 1: the 2027 theme
            drifted = crawl(PORTAL_PARSER_PIN=PINNED_2019)
            [failure] = [f for f in drifted["monitors"]["failed"] if f["monitor"].startswith("Fill rates")]
            for name in ("author", "qr.payload", "qr.matches_url"):
                assert name in failure["message"] and name in drifted["fill_drops"]
            assert "title" not in drifted["fill_drops"] and drifted["state"] == "finished"  # nothing rejected, nothing failed
            assert len(handler.messages) == 1 and "Fill rates" in handler.messages[0] and CITY in handler.messages[0]
            assert "WARNING" in handler.messages[0] and "Next:" in handler.messages[0]
            assert len(posts) == 1 and posts[0]["spider"] == CITY and "author" in posts[0]["fill_drops"]
            code, said = health(mongo, db.name)
            assert code == 1 and said.startswith("CRAWLER WARNING") and "author" in said
            (tmp_path / "health-drifted-day.txt").write_text(said, encoding="utf-8")

            replica.advance_day()  # day 2: the old theme again
            cleared = crawl(PORTAL_PARSER_PIN=PINNED_2019)
            assert cleared["monitors"]["failed"] == [] and len(handler.messages) == 2  # and a recovery message
            assert "RECOVERED" in handler.messages[1] and drifted["_id"] in handler.messages[1]
            assert posts[1]["kind"] == "recovery" and posts[1]["recovers"] == drifted["_id"]
            assert health(mongo, db.name)[0] == 0

            replica.options.drift_until_day = None  # the theme comes back for good: day 3
            day = replica.advance_day()
            read_anew = crawl()  # the parser chooses the layout by the page
            assert read_anew["monitors"]["failed"] == [] and read_anew["fill_drops"] == [], read_anew["monitors"]
            assert read_anew["fill_rates"]["qr.payload"] == 1.0
            truth = {r["_id"]: r for r in replica.truth(CITY)}
            for key in [k for k in day["new"] + day["changed"] if k.startswith(CITY)]:
                doc = db.articles.find_one({"_id": key})
                assert (doc["author"], doc["qr"]["payload"]) == (truth[key]["author"], truth[key]["qr"]["payload"]), key
            assert health(mongo, db.name)[0] == 0
            (tmp_path / "alert.eml").write_text(handler.messages[0], encoding="utf-8")
    finally:
        mongo.stop()
