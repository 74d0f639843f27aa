"""Reading the ERP: the full export entity by entity, then the change feed, forever.

The poll cursor is this module's own compact JSON (:class:`PollState`), kept by the hub
between polls::

    {"v":1,"entity":"lots","page":"<ERP export cursor>","read":2000,"since":"<feed cursor>"}
    {"v":1,"entity":null,"page":null,"read":0,"since":"<feed cursor>"}      (change feed)

The export reads ``residences``, ``buildings``, ``lots``, ``tenants`` then ``leases`` (so a
record's references mostly arrive before it), remembering where the change feed stood when
the export began (``changes_cursor`` of its very first page). After the last page of leases
it reads the change feed from there, so nothing changed during the export is missed.

Each ERP record or change becomes one raw payload
``{"event", "event_id", "key", "occurred_at", "data"}``; records are passed on as received
and validated only when translated, so one bad record goes to the DLQ with its reason
instead of blocking the export.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.erp.payloads import ChangeItem, ChangesPage, ExportPage
from connectors.sdk.base import Page
from pivot.errors import ConfigurationError, RetryableError
from pivot.http import raise_for_status

Entity = Literal["residences", "buildings", "lots", "tenants", "leases"]

#: The field holding each entity's ERP code.
RECORD_KEYS: dict[str, str] = {
    "residences": "code_residence",
    "buildings": "code_batiment",
    "lots": "code_ug",
    "tenants": "code_tiers",
    "leases": "code_bail",
}
EXPORT_ORDER: tuple[Entity, ...] = ("residences", "buildings", "lots", "tenants", "leases")
SINGULAR: dict[str, str] = {
    "residences": "residence",
    "buildings": "building",
    "lots": "lot",
    "tenants": "tenant",
    "leases": "lease",
}
#: Where a change's source id is: ``data[record][field]``.
CHANGE_KEYS: dict[str, tuple[str, str]] = {
    "lease.signed": ("lease", "code_bail"),
    "lease.notice_given": ("lease", "code_bail"),
    "lease.terminated": ("lease", "code_bail"),
    "tenant.updated": ("tenant", "code_tiers"),
}


class PollState(BaseModel):
    """Where the poll of the ERP stands; its JSON is the hub's opaque cursor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    #: Entity being exported, or None once the export is done (reading the change feed).
    entity: Entity | None = "residences"
    #: The ERP's export cursor of the entity's next page (None: its first page).
    page: str | None = None
    #: Records of the entity read so far (for progress notes).
    read: int = Field(default=0, ge=0)
    #: Change-feed cursor; during the export, where the feed stood when the export began.
    since: str | None = None

    @classmethod
    def decode(cls, cursor: str | None) -> PollState:
        """The state of a cursor (None: a fresh start with the full export).

        Raises:
            ConfigurationError: The cursor is not one this connector wrote (reset the poll).

        """
        if cursor is None:
            return cls()
        try:
            return cls.model_validate_json(cursor)
        except ValidationError as exc:
            raise ConfigurationError(
                f"unreadable ERP poll cursor {cursor[:80]!r}: reset the poll to resync ({exc.error_count()} "
                "error(s))"
            ) from exc

    def encode(self) -> str:
        """Compact JSON of the state."""
        return self.model_dump_json()


def _digest(record: dict[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None


def export_payload(entity: str, record: dict[str, Any]) -> dict[str, Any]:
    """The raw payload of one exported record.

    Its event id is ``erp:<entity>:<code>:<date_maj>`` (a digest of the record when the ERP
    keeps no ``date_maj``): a record re-exported unchanged is the same event, deduplicated.
    """
    singular = SINGULAR[entity]
    key = _text(record.get(RECORD_KEYS[entity]))
    stamp = _text(record.get("date_maj"))
    return {
        "event": f"export.{singular}",
        "event_id": f"erp:{singular}:{key or '-'}:{stamp or _digest(record)}",
        "key": key,
        "occurred_at": stamp,
        "data": record,
    }


def change_payload(change: ChangeItem) -> dict[str, Any]:
    """The raw payload of one change of the feed, keyed by the lease or tenant it changes."""
    record, field = CHANGE_KEYS.get(change.type, ("", ""))
    holder = change.data.get(record)
    return {
        "event": change.type,
        "event_id": f"erp:change:{change.change_id}",
        "key": _text(holder.get(field)) if isinstance(holder, dict) else None,
        "occurred_at": change.occurred_at,
        "data": change.data,
    }


def _get_json(client: httpx.Client, path: str, params: dict[str, Any]) -> Any:
    response = raise_for_status(client.get(path, params=params))
    try:
        return response.json()
    except ValueError as exc:  # a proxy's error page with a 200: transient
        raise RetryableError(f"ERP answered GET {path} with a body that is not JSON") from exc


def read_page(client: httpx.Client, cursor: str | None, page_size: int) -> Page:
    """Read the page after ``cursor`` from the ERP: an export page, or the change feed.

    Raises:
        RetryableError: The ERP is unavailable (5xx, 429) or answered garbage.
        DeliveryRejected: The ERP refused the read (4xx, e.g. an expired export cursor).
        ConfigurationError: The cursor is unreadable.
        pydantic.ValidationError: The answer does not have the ERP's page shape.

    """
    state = PollState.decode(cursor)
    if state.entity is not None:
        return _export_page(client, state, state.entity, page_size)
    return _changes_page(client, state, page_size)


def _export_page(client: httpx.Client, state: PollState, entity: Entity, page_size: int) -> Page:
    params: dict[str, Any] = {"limit": page_size}
    if state.page:
        params["cursor"] = state.page
    answer = ExportPage.model_validate(_get_json(client, f"/api/v1/export/{entity}", params))
    since = state.since or answer.changes_cursor
    read = state.read + len(answer.items)
    if answer.next_cursor:
        following = PollState(entity=entity, page=answer.next_cursor, read=read, since=since)
    else:
        position = EXPORT_ORDER.index(entity) + 1
        after = EXPORT_ORDER[position] if position < len(EXPORT_ORDER) else None
        following = PollState(entity=after, since=since)
    return Page(
        payloads=[export_payload(entity, record) for record in answer.items],
        cursor=following.encode(),
        more=True,  # the next export page, or the changes made while exporting
        note=f"{entity} {read}/{answer.total}",
    )


def _changes_page(client: httpx.Client, state: PollState, page_size: int) -> Page:
    params: dict[str, Any] = {"limit": page_size}
    if state.since:
        params["since"] = state.since
    answer = ChangesPage.model_validate(_get_json(client, "/api/v1/changes", params))
    position = answer.items[-1].change_id if answer.items else answer.last_change_id
    return Page(
        payloads=[change_payload(change) for change in answer.items],
        cursor=PollState(entity=None, since=answer.next_cursor).encode(),
        more=answer.has_more,
        note=f"changes up to #{position}",
    )
