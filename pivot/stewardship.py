"""Data stewardship: what a person decides about identities, applied like any other event.

Two tenant records turn out to be the same person (the chatbot user who never gave their
ERP reference and the ERP's tenant): :func:`merge_tenants` makes the absorbed id redirect to
the survivor in the xref, keeps the absorbed record's history, and publishes
``fr.pivot.tenant.merged.v1`` so every satellite can follow.
"""

from __future__ import annotations

from canonical_model.events import TenantMerged
from pivot.errors import RejectedError
from pivot.hub import Hub
from pivot.pipeline import canonical
from pivot.store import golden, outbox, xref

#: Name under which the hub's own decisions appear in lineage and CloudEvents ``source``.
STEWARD = "steward"


class MergeRefused(RejectedError):
    """A merge that cannot be done (unknown record, merge into itself, loop)."""


def merge_tenants(hub: Hub, survivor: str, absorbed: str, reason: str) -> TenantMerged:
    """Merge tenant ``absorbed`` into ``survivor``; return the published event."""
    with hub.store.session() as session:
        record = golden.get(session, xref.survivor_of(session, survivor))
        if record is None or record.entity != "tenant":
            raise MergeRefused(f"no tenant golden record {survivor!r} to merge into")
        try:
            xref.merge(session, "tenant", record.canonical_id, absorbed, reason)
        except ValueError as exc:
            raise MergeRefused(str(exc)) from exc
        event = TenantMerged.model_validate({**record.data, "absorbed_id": absorbed})
        staged = canonical.stage(session, [event], connector=STEWARD, mapping_version="1",
                                 origin_id=f"merge:{absorbed}", headers=canonical.carried_headers({}))
    hub.producer.wait([item.send(hub.producer) for item in staged])
    with hub.store.session() as session:
        outbox.mark_published(session, [item.event_id for item in staged])
    return event
