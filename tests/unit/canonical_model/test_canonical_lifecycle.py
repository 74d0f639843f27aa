from enum import StrEnum

import pytest

from canonical_model import (
    TRANSITIONS,
    CertificateStatus,
    InterventionStatus,
    InvalidTransition,
    LeaseStatus,
    OccupancyStatus,
    RequestStatus,
    allowed_transitions,
    can_transition,
    check_transition,
)


def test_every_status_has_a_row_and_targets_stay_in_the_enum() -> None:
    assert set(TRANSITIONS) == {
        LeaseStatus,
        InterventionStatus,
        RequestStatus,
        CertificateStatus,
        OccupancyStatus,
    }
    for status_type, table in TRANSITIONS.items():
        assert set(table) == set(status_type)
        for targets in table.values():
            assert all(isinstance(target, status_type) for target in targets)


@pytest.mark.parametrize(
    "initial",
    [LeaseStatus.DRAFT, InterventionStatus.CREATED, RequestStatus.RECEIVED],
)
def test_every_status_is_reachable_from_the_initial_one(initial: StrEnum) -> None:
    seen, todo = {initial}, [initial]
    while todo:
        for target in allowed_transitions(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(type(initial))


@pytest.mark.parametrize("status_type", list(TRANSITIONS), ids=lambda t: t.__name__)
def test_staying_in_the_same_status_is_always_allowed(status_type: type[StrEnum]) -> None:
    for status in status_type:
        assert can_transition(status, status)
        check_transition(status, status)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (LeaseStatus.ACTIVE, LeaseStatus.NOTICE),
        (LeaseStatus.NOTICE, LeaseStatus.ACTIVE),  # notice withdrawn
        (LeaseStatus.NOTICE, LeaseStatus.TERMINATED),
        (InterventionStatus.SCHEDULED, InterventionStatus.STARTED),
        (InterventionStatus.STARTED, InterventionStatus.SCHEDULED),  # second visit needed
        (RequestStatus.RESOLVED, RequestStatus.IN_PROGRESS),  # reopened
        (CertificateStatus.MISMATCH, CertificateStatus.VALID),
        (OccupancyStatus.VACANT, OccupancyStatus.WORKS),
        (OccupancyStatus.WORKS, OccupancyStatus.OCCUPIED),
    ],
)
def test_allowed_transitions(old: StrEnum, new: StrEnum) -> None:
    assert can_transition(old, new)
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (LeaseStatus.TERMINATED, LeaseStatus.ACTIVE),
        (LeaseStatus.DRAFT, LeaseStatus.NOTICE),
        (InterventionStatus.COMPLETED, InterventionStatus.SCHEDULED),
        (InterventionStatus.CANCELLED, InterventionStatus.STARTED),
        (RequestStatus.CLOSED, RequestStatus.IN_PROGRESS),
        (RequestStatus.REJECTED, RequestStatus.TRIAGED),
        (CertificateStatus.EXPIRED, CertificateStatus.VALID),
        (OccupancyStatus.OCCUPIED, OccupancyStatus.WORKS),
    ],
)
def test_refused_transitions(old: StrEnum, new: StrEnum) -> None:
    assert not can_transition(old, new)
    with pytest.raises(InvalidTransition, match=f"from '{old.value}' to '{new.value}'"):
        check_transition(old, new)


def test_message_lists_what_is_allowed() -> None:
    with pytest.raises(InvalidTransition) as error:
        check_transition(InterventionStatus.STARTED, InterventionStatus.CANCELLED)
    assert str(error.value).endswith("it may go to: completed, scheduled")
    with pytest.raises(InvalidTransition, match="final status"):
        check_transition(LeaseStatus.TERMINATED, LeaseStatus.NOTICE)


def test_statuses_of_different_lifecycles_cannot_be_compared() -> None:
    with pytest.raises(TypeError, match=r"LeaseStatus\.ACTIVE and RequestStatus\.CLOSED"):
        can_transition(LeaseStatus.ACTIVE, RequestStatus.CLOSED)  # type: ignore[misc]
