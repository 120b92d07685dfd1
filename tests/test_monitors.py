"""The fill-rate monitor's judgement: a drop counts when it is large and unlikely by chance for a run of its size."""

from __future__ import annotations

import pytest

from crawler.operations.monitors import chance_of_at_most


def test_a_small_day_with_fewer_photos_is_chance_a_field_gone_empty_is_not():
    assert chance_of_at_most(3, 7, 0.71) > 0.05  # three photos in seven articles, where 71 % usually have one
    assert chance_of_at_most(0, 7, 0.58) < 0.01  # no byline in seven articles, where 58 % usually have one
    assert chance_of_at_most(43, 100, 0.71) < 1e-6  # the same share over a hundred articles is a change


@pytest.mark.parametrize(("filled", "items", "rate", "chance"), [(0, 5, 1.0, 0.0), (5, 5, 1.0, 1.0), (2, 5, 0.0, 1.0)])
def test_edge_rates(filled, items, rate, chance):
    assert chance_of_at_most(filled, items, rate) == chance
