"""Which MongoDB a crawl uses, and how it fails when there is none."""

import threading

import pytest
from pymongo.errors import PyMongoError
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.storage.mongo import MongoConnection, MongoUnavailable, connect, is_loopback, open_database, read_ahead, redact


def settings(**values):
    base = Settings({k: v for k, v in vars(project_settings).items() if k.isupper()})
    base.setdict(values, priority="cmdline")
    return base


def test_a_job_without_mongo_uri_fails_fast_rather_than_keep_a_private_store():
    with pytest.raises(MongoUnavailable, match="MONGO_URI is not set"):
        open_database(settings(MONGO_URI=None, MONGO_EMBEDDED=False))


def test_an_unreachable_server_is_named_without_its_password_in_one_short_line():
    with pytest.raises(MongoUnavailable, match=r"cannot reach MongoDB at mongodb://crawler:\*\*\*@127.0.0.1:9") as raised:
        connect("mongodb://crawler:secret@127.0.0.1:9/", "x", timeout_ms=200)
    message = str(raised.value)
    assert "\n" not in message and len(message) < 300, message  # not the driver's topology dump
    assert "secret" not in redact("mongodb://crawler:secret@db:27017/")


def test_writes_are_journaled(mongo_uri):
    client, db = connect(mongo_uri, "journal_check")
    assert db.write_concern.document == {"w": 1, "j": True}
    client.close()


def test_a_data_folder_in_use_gets_the_friendly_message_not_a_traceback(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from replica.drills import MongoProcess

    holder = MongoProcess(tmp_path / "mongo").start()
    try:
        second = subprocess.run([sys.executable, "-m", "crawler", "mongo-server", "--data-dir", str(tmp_path / "mongo"), "--port", "0"],
                                cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=60, check=False)
    finally:
        holder.stop()
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert "if another process holds that folder" in second.stderr


def test_redact_masks_secret_query_parameters_and_passwords_inside_messages():
    uri = ("mongodb://db:27017/?authSource=admin&tlsCertificateKeyFilePassword=hunter2"
           "&authMechanismProperties=AWS_SESSION_TOKEN:FwoGZX")
    assert redact(uri) == "mongodb://db:27017/?authSource=admin&tlsCertificateKeyFilePassword=***&authMechanismProperties=***"
    message = "scrapyd at https://ops:s3cret@127.0.0.1:6800/: listjobs failed (see https://h/x?api_key=k&project=p)"
    assert redact(message) == "scrapyd at https://ops:***@127.0.0.1:6800/: listjobs failed (see https://h/x?api_key=***&project=p)"


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
                                                ("0.0.0.0", False), ("192.0.2.10", False), ("db.example.org", False)])
def test_only_loopback_hosts_are_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_the_embedded_server_refuses_a_non_loopback_host_unless_told_and_then_warns(tmp_path):
    import subprocess
    import sys

    from tests.helpers import ROOT

    refused = subprocess.run([sys.executable, "-m", "crawler", "mongo-server", "--data-dir", str(tmp_path / "m"), "--host", "0.0.0.0"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2 and "not a loopback address" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert not (tmp_path / "m").exists()  # nothing started, nothing created


def test_redact_masks_the_password_of_any_uri():
    assert redact("mongodb://u:p%40ss@h1:1,h2:2/?replicaSet=rs0") == "mongodb://u:***@h1:1,h2:2/?replicaSet=rs0"
    assert redact("mongodb+srv://crawler:secret@cluster.example/db") == "mongodb+srv://crawler:***@cluster.example/db"
    assert redact("mongodb://h1:1,h2:2/") == "mongodb://h1:1,h2:2/"


def test_the_crawl_has_one_connection_an_extension_opened_on_first_use_and_closed_when_the_engine_stops(mongo_uri, tmp_path):
    import asyncio

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from spiders.thanhphohaiphong import ThanhphohaiphongSpider
    from tests.pipeline_harness import make_crawler

    crawler = make_crawler(ThanhphohaiphongSpider, mongo_uri, "extension_check", tmp_path)
    mongo = MongoConnection.of(crawler)
    assert mongo is MongoConnection.of(crawler) and not mongo.is_open  # nothing opened by merely building the crawl
    assert mongo.db.command("ping")["ok"] == 1 and mongo.writer is mongo.writer
    asyncio.run(crawler.signals.send_catch_log_async(signals.engine_stopped))
    assert not mongo.is_open
    with pytest.raises(RuntimeError, match="MongoConnection is not in EXTENSIONS"):
        MongoConnection.of(get_crawler(ThanhphohaiphongSpider, {"EXTENSIONS": {}}))


def test_read_ahead_gives_the_cursors_documents_in_order_while_a_thread_fetches_the_next(mongo_uri):
    client, db = connect(mongo_uri, "test_read_ahead")
    try:
        db.docs.drop()
        db.docs.insert_many([{"_id": n, "n": n} for n in range(1_050)])
        threads = []

        def documents():
            threads.append(threading.current_thread().name)
            yield from db.docs.find().sort("_id", 1).batch_size(200)

        assert [d["n"] for d in read_ahead(documents(), chunk=100, chunks=2)] == list(range(1_050))
        assert threads == ["read-ahead"]  # fetched by the thread, not the caller
    finally:
        client.close()


def test_read_ahead_raises_the_cursors_error_where_the_caller_reads_after_what_came_before():
    def documents():
        yield from ({"n": n} for n in range(250))
        raise PyMongoError("connection closed")

    got = []
    with pytest.raises(PyMongoError, match="connection closed"):
        for document in read_ahead(documents(), chunk=100, chunks=2):
            got.append(document["n"])
    assert got == list(range(250))  # everything the cursor gave before it failed


def test_a_caller_that_stops_early_stops_the_thread_and_closes_the_cursor():
    closed = threading.Event()

    class Cursor:
        def __iter__(self):
            return ({"n": n} for n in range(1_000_000))

        def close(self):
            closed.set()

    reader = read_ahead(Cursor(), chunk=10, chunks=2)
    assert next(reader) == {"n": 0}
    reader.close()
    assert closed.wait(5)
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())


def test_the_embedded_server_has_its_test_commands_off(mongo_uri):
    from pymongo.errors import OperationFailure

    client, _ = connect(mongo_uri, "failpoints")
    try:
        with pytest.raises(OperationFailure, match="no such command"):
            client.admin.command({"configureFailPoint": "failCommand", "mode": "alwaysOn",
                                  "data": {"failCommands": ["insert"], "errorCode": 2}})
    finally:
        client.close()
