"""The audit page's usage chart: tokens per day, one stacked series per person.

Plain data for static/js/usage_chart.js (vendored Chart.js draws it) and for
the table beside it that screen readers and keyboard users read instead.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

MAX_DAYS = 60  # the chart shows the last 60 days of the filtered records
MAX_PEOPLE = 6  # the busiest people get a series each; the others share one


def build(*, per_user: list[dict], per_day: list[dict]) -> dict:
    """`per_user`: rows of day, user (email, "" for no person) and tokens;
    `per_day`: rows of day, calls, errors and tokens (selectors.usage_by_day)."""
    if not per_day:
        return {"labels": [], "datasets": [], "rows": []}
    last = per_day[-1]["day"]
    first = max(per_day[0]["day"], last - dt.timedelta(days=MAX_DAYS - 1))
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    index = {day: n for n, day in enumerate(days)}

    totals: dict[str, int] = defaultdict(int)
    for row in per_user:
        if row["day"] in index:
            totals[row["user"]] += row["tokens"]
    people = sorted((u for u in totals if u), key=lambda u: (-totals[u], u))
    named = people[:MAX_PEOPLE]
    others = people[MAX_PEOPLE:]
    series: dict[str, list[int]] = {user: [0] * len(days) for user in named}
    others_label = ngettext("%(count)d other person", "%(count)d other people",
                            len(others)) % {"count": len(others)}
    system_label = gettext("No person (connection tests, indexing)")
    for row in per_user:
        n = index.get(row["day"])
        if n is None:
            continue
        label = (row["user"] if row["user"] in series else
                 system_label if not row["user"] else others_label)
        series.setdefault(label, [0] * len(days))[n] += row["tokens"]

    by_day = {row["day"]: row for row in per_day}
    rows = [{"day": day, "label": date_format(day, "MONTH_DAY_FORMAT"),
             "tokens": by_day.get(day, {}).get("tokens", 0),
             "calls": by_day.get(day, {}).get("calls", 0),
             "errors": by_day.get(day, {}).get("errors", 0),
             "per_series": [values[n] for values in series.values()]}
            for n, day in enumerate(days)]
    return {
        "labels": [row["label"] for row in rows],
        "dates": [day.isoformat() for day in days],
        "datasets": [{"label": label, "data": values} for label, values in series.items()],
        "axes": {"x": gettext("Day"), "y": gettext("Tokens")},
        "rows": rows,
    }
