"""How a run's end becomes its state and the exit status of `scrapy crawl`."""

from __future__ import annotations

import pytest

from crawler.operations.runs import EXIT_FAILED, EXIT_FINISHED, EXIT_SHUTDOWN, EXIT_SPILLED, run_outcome


@pytest.mark.parametrize(("reason", "stats", "state", "code"), [
    ("finished", {}, "finished", EXIT_FINISHED),
    ("shutdown", {}, "shutdown", EXIT_SHUTDOWN),
    ("mongo_unavailable", {}, "failed", EXIT_FAILED),
    ("finished", {"spider_exceptions/count": 2}, "failed", EXIT_FAILED),  # pages lost to an exception
    ("finished", {"items/errors": 1}, "failed", EXIT_FAILED),
    ("finished", {"mongo/spilled": 5}, "failed", EXIT_SPILLED),  # finished, but writes wait in a spill file
    ("mongo_unavailable", {"mongo/spilled": 5, "mongo/gave_up": "MongoDB unavailable for 300 s"}, "failed", EXIT_SPILLED),
])
def test_a_run_ends_in_a_state_and_an_exit_status(reason, stats, state, code):
    got_state, why, got_code = run_outcome(reason, stats)
    assert (got_state, got_code) == (state, code)
    assert (why is None) == (state == "finished")
    if "mongo/gave_up" in stats:
        assert "5 writes spilled" in why and "300 s" in why
