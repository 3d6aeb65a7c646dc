"""The audit page's usage chart data: every day in the range (quiet days are
zeros, so the date axis is true), the busiest people with a series each, the
rest together, and calls no person made apart."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from compliance import usage_chart

DAY = dt.date(2026, 11, 1)


def day(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


def test_quiet_days_are_zero_and_series_are_per_person():
    per_user = [{"day": day(0), "user": "a@example.com", "tokens": 10},
                {"day": day(2), "user": "b@example.com", "tokens": 30},
                {"day": day(2), "user": "", "tokens": 1}]
    per_day = [{"day": day(0), "calls": 1, "errors": 0, "tokens": 10},
               {"day": day(2), "calls": 2, "errors": 1, "tokens": 31}]
    with translation.override("en"):
        chart = usage_chart.build(per_user=per_user, per_day=per_day)
    assert chart["dates"] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert chart["labels"] == ["November 1", "November 2", "November 3"]
    assert chart["datasets"] == [
        {"label": "b@example.com", "data": [0, 0, 30]},
        {"label": "a@example.com", "data": [10, 0, 0]},
        {"label": "No person (connection tests, indexing)", "data": [0, 0, 1]},
    ]
    assert chart["axes"] == {"x": "Day", "y": "Tokens"}
    assert [row["calls"] for row in chart["rows"]] == [1, 0, 2]
    assert [row["per_series"] for row in chart["rows"]] == [[0, 10, 0], [0, 0, 0], [30, 0, 1]]


def test_the_busiest_people_get_a_series_and_the_others_share_one():
    people = [f"p{n}@example.com" for n in range(9)]
    per_user = [{"day": day(0), "user": email, "tokens": 100 - n}
                for n, email in enumerate(people)]
    per_day = [{"day": day(0), "calls": 9, "errors": 0, "tokens": sum(range(92, 101))}]
    with translation.override("en"):
        chart = usage_chart.build(per_user=per_user, per_day=per_day)
    labels = [series["label"] for series in chart["datasets"]]
    assert labels == people[:6] + ["3 other people"]
    assert chart["datasets"][-1]["data"] == [94 + 93 + 92]


def test_only_the_last_sixty_days_and_labels_in_korean_and_japanese():
    per_user = [{"day": day(n), "user": "a@example.com", "tokens": 1} for n in range(90)]
    per_day = [{"day": day(n), "calls": 1, "errors": 0, "tokens": 1} for n in range(90)]
    with translation.override("ko"):
        chart = usage_chart.build(per_user=per_user, per_day=per_day)
        assert chart["axes"] == {"x": "날짜", "y": "토큰"}
    assert len(chart["dates"]) == usage_chart.MAX_DAYS
    assert chart["dates"][-1] == day(89).isoformat()
    with translation.override("ja"):
        chart = usage_chart.build(per_user=per_user, per_day=per_day)
        assert chart["axes"] == {"x": "日付", "y": "トークン"}


def test_no_records_no_chart():
    assert usage_chart.build(per_user=[], per_day=[])["rows"] == []
