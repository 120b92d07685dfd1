"""Scheduling across scrapyd nodes: which nodes, and no job when a node cannot say what it runs."""

from __future__ import annotations

import pytest

from crawler.operations.scheduling import Cluster, ScrapydError, node_urls, pairs
from crawler.storage.mongo import free_port


def test_nodes_come_from_repeated_flags_or_a_list_in_the_environment():
    assert node_urls(["http://a:6800/", "http://b:6800, http://c:6800"]) == ["http://a:6800", "http://b:6800", "http://c:6800"]
    assert node_urls(None, {"SCRAPYD_URL": "http://a:6800 http://b:6800,http://a:6800"}) == ["http://a:6800", "http://b:6800"]
    assert node_urls(None, {}) == ["http://127.0.0.1:6800"]


def test_a_node_that_does_not_answer_stops_the_scheduling_and_is_named():
    silent = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ScrapydError, match=f"scrapyd at {silent}: jobs failed"):
        Cluster([silent], "haiphong_portal", "crawler", "secret").schedule("thanhphohaiphong", {}, {})


def test_job_settings_and_arguments_must_be_name_value_pairs():
    assert pairs(["full=1", "base_url=http://127.0.0.1:1/a=b"], "-a") == {"full": "1", "base_url": "http://127.0.0.1:1/a=b"}
    with pytest.raises(ValueError, match="-s takes NAME=VALUE"):
        pairs(["PORTAL_PROFILE"], "-s")
