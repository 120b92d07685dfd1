"""The operator's data commands on a crawled database: backup and restore lose nothing; metrics parse as Prometheus reads them."""

from __future__ import annotations

import os
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from crawler.storage.mongo import connect
from tests.helpers import ROOT


def command(*args: str, uri: str, database: str, data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "MONGO_URI": uri, "MONGO_DATABASE": database}
    return subprocess.run([sys.executable, "-m", "crawler", *args, "--data-dir", str(data_dir)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_a_backup_restored_into_an_empty_database_holds_every_document(crawled, mongo_uri, tmp_path):
    source = crawled.db
    backup = tmp_path / "crawl.backup.gz"
    done = command("backup", "--out", str(backup), uri=mongo_uri, database=source.name, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    client, target = connect(mongo_uri, "restored_e2e")
    client.drop_database(target.name)
    try:
        restored = command("restore", str(backup), uri=mongo_uri, database=target.name, data_dir=tmp_path)
        assert restored.returncode == 0, restored.stderr
        names = sorted(source.list_collection_names())
        assert names and sorted(target.list_collection_names()) == names
        for name in names:
            assert target[name].count_documents({}) == source[name].count_documents({}), name
            for doc in source[name].find().limit(25):  # a sample, field for field (dates, nesting, Vietnamese text)
                assert target[name].find_one({"_id": doc["_id"]}) == doc, (name, doc["_id"])
        assert set(target.articles.index_information()) == set(source.articles.index_information())
        again = command("restore", str(backup), uri=mongo_uri, database=target.name, data_dir=tmp_path)
        assert again.returncode == 1 and "already holds" in again.stderr and "--drop" in again.stderr
        cut = tmp_path / "cut.gz"
        cut.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
        client.drop_database(target.name)
        damaged = command("restore", str(cut), uri=mongo_uri, database=target.name, data_dir=tmp_path)
        assert damaged.returncode == 1 and "Traceback" not in damaged.stderr, damaged.stderr
    finally:
        client.drop_database(target.name)
        client.close()


def test_metrics_are_prometheus_text_with_each_portals_last_run(crawled, mongo_uri, tmp_path):
    out = tmp_path / "textfile" / "haiphong.prom"
    done = command("metrics", "--out", str(out), uri=mongo_uri, database=crawled.db.name, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(out.read_text()) for s in family.samples}
    assert samples[("haiphong_crawler_up", ())] == 1
    for site in ("thanhphohaiphong", "congan_haiphong"):
        stored = crawled.db.articles.count_documents({"site": site, "removed_at": None})
        assert samples[("haiphong_crawler_articles_stored", (("spider", site),))] == stored > 0
        run = crawled.db.crawl_runs.find_one({"spider": site}, sort=[("started_at", -1)])
        assert samples[("haiphong_crawler_last_run_state", (("spider", site), ("state", run["state"])))] == 1
        assert samples[("haiphong_crawler_version_info", (("spider", site), ("version", run["version"])))] == 1
        assert samples[("haiphong_crawler_spilled_writes", (("spider", site),))] == 0
    down = command("metrics", uri="mongodb://127.0.0.1:9/", database="x", data_dir=tmp_path)
    assert down.returncode == 1
    assert {s.name: s.value for f in text_string_to_metric_families(down.stdout) for s in f.samples}["haiphong_crawler_up"] == 0
