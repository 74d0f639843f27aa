"""Processed event ids: each consumer applies an event once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pivot.store import Store, idempotency, xref

if TYPE_CHECKING:  # the fixture's type; conftest is not importable from a test module
    from tests.unit.store.conftest import SourceIds


def test_mark_is_true_once_then_false(store: Store, ids: SourceIds) -> None:
    event_id = f"evt-deliver-{ids.n}"
    with store.session() as session:
        assert idempotency.mark(session, "deliver:urbest", event_id, "ok") is True
    with store.session() as session:
        assert idempotency.mark(session, "deliver:urbest", event_id, "ok") is False
        # Another consumer has its own ledger.
        assert idempotency.mark(session, "deliver:chatbot", event_id, "ok") is True
    with store.session() as session:
        assert idempotency.seen(session, "deliver:urbest", [event_id]) == {event_id}
        assert idempotency.seen(session, "deliver:chatbot", [event_id]) == {event_id}


def test_seen_returns_exactly_the_marked_subset(store: Store, ids: SourceIds) -> None:
    batch = [f"evt-{ids.n}-{i:02d}" for i in range(8)]
    marked = set(batch[::3])
    with store.session() as session:
        for event_id in sorted(marked):
            assert idempotency.mark(session, "translate:erp", event_id, "ok") is True
    with store.session() as session:
        assert idempotency.seen(session, "translate:erp", batch) == marked
        assert idempotency.seen(session, "translate:erp", iter(batch)) == marked  # any iterable
        assert idempotency.seen(session, "translate:ublo", batch) == set()
        assert idempotency.seen(session, "translate:erp", []) == set()
        assert idempotency.seen(session, "translate:erp", [f"evt-{ids.n}-99"]) == set()


def test_a_duplicate_mark_keeps_the_rest_of_the_transaction(store: Store, ids: SourceIds) -> None:
    # A consumer marks a redelivered event inside the transaction that also writes its
    # effects: the refused mark must not roll back the effects written before it.
    done = f"evt-{ids.n}-done"
    with store.session() as session:
        assert idempotency.mark(session, "translate:chatbot", done, "ok") is True
    with store.session() as session:
        canonical_id = xref.resolve(session, "chatbot", "tenant", ids.chatbot_user)
        assert idempotency.mark(session, "translate:chatbot", done, "ok") is False
        assert idempotency.mark(session, "translate:chatbot", f"evt-{ids.n}-next", "dlq") is True
    with store.session() as session:
        assert xref.lookup(session, "chatbot", "tenant", ids.chatbot_user) == canonical_id
        assert idempotency.seen(session, "translate:chatbot", [done, f"evt-{ids.n}-next"]) == {
            done, f"evt-{ids.n}-next"
        }


def test_the_same_event_twice_in_one_batch(store: Store, ids: SourceIds) -> None:
    # At-least-once delivery can put one event twice in the same polled batch.
    event_id = f"evt-{ids.n}-twice"
    with store.session() as session:
        assert idempotency.mark(session, "deliver:ublo", event_id, "ok") is True
        assert idempotency.mark(session, "deliver:ublo", event_id, "duplicate") is False
        assert idempotency.seen(session, "deliver:ublo", [event_id]) == {event_id}
    with store.session() as session:
        assert idempotency.seen(session, "deliver:ublo", [event_id]) == {event_id}
