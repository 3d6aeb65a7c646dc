"""Fair shares within a client (chat/slots.py, issue 25): one person's share
of the client's answers in flight, and a line served in turn between people.
Real Redis; the scripts run as they do in production."""

from __future__ import annotations

import uuid

import pytest

from chat import slots
from core import redis_client


@pytest.fixture
def schema():
    name = f"fair_{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.client().delete(*slots.keys(name))


def test_default_share_is_half_the_client_limit_at_least_one():
    assert slots.Limits.of(4) == slots.Limits(client=4, person=2)
    assert slots.Limits.of(1) == slots.Limits(client=1, person=1)
    assert slots.Limits.of(5) == slots.Limits(client=5, person=2)
    assert slots.Limits.of(4, 9) == slots.Limits(client=4, person=4), "never above the client's"


def test_one_person_over_their_share_waits_while_a_colleague_goes_at_once(schema):
    limits = slots.Limits.of(4)
    flood = [slots.admit(schema, answer, person="ann", limits=limits) for answer in range(1, 9)]
    assert [a.place for a in flood] == [0, 0, 1, 2, 3, 4, 5, 6]
    assert sum((a.admitted for a in flood), []) == [1, 2]

    colleague = slots.admit(schema, 100, person="bob", limits=limits)
    assert colleague.place == 0 and colleague.admitted == [100]


def test_the_line_is_served_in_turn_between_people(schema):
    limits = slots.Limits.of(2, 1)
    for answer in (1, 2):  # ann and bob each hold their one slot
        slots.admit(schema, answer, person="ann" if answer == 1 else "bob", limits=limits)
    for answer in range(10, 20):  # ann's next ten questions wait
        slots.admit(schema, answer, person="ann", limits=limits)
    carol = slots.admit(schema, 50, person="carol", limits=limits)
    bob_again = slots.admit(schema, 51, person="bob", limits=limits)
    # Turns count the answers each person already has: carol (none in
    # flight) is first; bob's second answer comes with ann's second, before
    # ann's third, not after her tenth.
    assert carol.place == 1 and slots.place_in_line(schema, 50) == 1
    assert slots.place_in_line(schema, 10) == 2
    assert bob_again.place == 3 and slots.place_in_line(schema, 11) == 4
    assert slots.place_in_line(schema, 19) == 12

    # Ann's answer ends: ann (now none in flight) and carol are both in the
    # first round; ann's came first...
    assert slots.leave(schema, 1, limits=limits) == [10]
    # ...bob's ends: carol has no answer in flight and is first in turn.
    assert slots.leave(schema, 2, limits=limits) == [50]
    assert slots.place_in_line(schema, 51) == 1


def test_leaving_frees_the_share_and_waiting_answers_can_leave_the_line(schema):
    limits = slots.Limits.of(4, 1)
    slots.admit(schema, 1, person="ann", limits=limits)
    assert slots.admit(schema, 2, person="ann", limits=limits).place == 1
    assert slots.admit(schema, 3, person="ann", limits=limits).place == 2
    assert slots.leave(schema, 2, limits=limits) == []  # stopped while waiting
    assert slots.place_in_line(schema, 3) == 1
    assert slots.leave(schema, 1, limits=limits) == [3]
    client = redis_client.client()
    assert client.hget(slots.keys(schema)[3], "ann") == "1"
    assert slots.leave(schema, 3, limits=limits) == []
    assert not client.exists(*slots.keys(schema)), "nothing left behind"


def test_a_stale_slot_is_taken_back_with_its_share(schema):
    limits = slots.Limits.of(2, 1)
    slots.admit(schema, 1, person="ann", limits=limits)
    assert slots.admit(schema, 2, person="ann", limits=limits).place == 1
    # The worker holding answer 1 died: its slot's last sign of life is old.
    redis_client.client().zadd(slots.keys(schema)[0], {"1": 1.0})
    assert slots.admit(schema, None, limits=limits).admitted == [2]
    assert redis_client.client().hget(slots.keys(schema)[3], "ann") == "1"


def test_admitting_twice_is_harmless(schema):
    limits = slots.Limits.of(2, 1)
    assert slots.admit(schema, 1, person="ann", limits=limits).admitted == [1]
    assert slots.admit(schema, 1, person="ann", limits=limits).admitted == []
    assert slots.admit(schema, 2, person="ann", limits=limits).place == 1
    assert slots.admit(schema, 2, person="ann", limits=limits).place == 1
    assert redis_client.client().llen(slots.keys(schema)[1]) == 1
