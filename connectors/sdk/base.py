"""The one connector base class.

A connector is mostly data: a name, a settings class, and two tables — inbound (satellite
event type → payload model, canonical events it emits, pure mapping function) and outbound
(canonical event type → delivery function). The base owns parsing, error translation and
retries; a connector writes only its mappings and its client calls::

    class ChatbotConnector(Connector):
        name = "chatbot"
        settings_class = ChatbotSettings
        inbound = {"message.created": Inbound(MessageCreated, (RequestReceived,), map_message)}
        outbound = {RequestReceived.event_type: Outbound(RequestReceived, acknowledge)}

Connectors register through the ``pivot.connectors`` entry-point group; two classes with the
same name are refused at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState

from canonical_model.events import CanonicalEvent
from connectors.sdk.context import MappingContext, OutboundContext
from connectors.sdk.settings import ConnectorSettings
from pivot import jsoncodec
from pivot.errors import (
    ConfigurationError,
    MappingError,
    PivotError,
    RetryableError,
    UnknownEventError,
)
from pivot.http import build_client
from pivot.retry import retry_policy

P = TypeVar("P", bound=BaseModel)
E = TypeVar("E", bound=CanonicalEvent)

InboundFn = Callable[[P, MappingContext], Iterable[CanonicalEvent]]
OutboundFn = Callable[[E, OutboundContext], Iterable[CanonicalEvent] | None]


@dataclass(frozen=True)
class Inbound(Generic[P]):
    """One row of the inbound table: how a satellite event becomes canonical events."""

    payload: type[P]
    emits: tuple[type[CanonicalEvent], ...]
    map: InboundFn[P]


@dataclass(frozen=True)
class Outbound(Generic[E]):
    """One row of the outbound table: how a canonical event reaches the satellite."""

    event: type[E]
    deliver: OutboundFn[E]
    #: Canonical events this delivery may publish back (e.g. the intervention it created).
    emits: tuple[type[CanonicalEvent], ...] = ()
    #: Whether events this connector itself published are delivered back to its satellite.
    #: False for a satellite that masters the record (its own change must not echo back).
    from_self: bool = True
    #: Rank of an event from its data (lower goes first): within a polled batch, the events
    #: of the most urgent keys are delivered first (order per key is kept).
    priority: Callable[[Mapping[str, Any]], int] | None = None


@dataclass(frozen=True)
class Page:
    """One page read from a polled satellite."""

    #: Satellite payloads, each published on the raw topic and translated like a webhook.
    payloads: list[dict[str, Any]]
    #: Where the next poll resumes (kept in the store once the page is on the bus).
    cursor: str | None
    #: True when another page is ready now; False to wait ``poll_interval_s`` first.
    more: bool
    #: A short progress note (``"lots 1000/2000"``) for logs and progress bars.
    note: str = ""


@dataclass(frozen=True)
class Translation:
    """What one satellite payload became."""

    events: list[CanonicalEvent]
    satellite_event_type: str
    #: The satellite's own event id, when it sends one; keys the canonical event ids.
    source_event_id: str | None


class DeliveryFailure(PivotError):
    """A delivery failed for good after ``attempts`` attempts; ``cause`` says why."""

    kind = "delivery"

    def __init__(self, cause: PivotError, attempts: int = 1) -> None:
        super().__init__(f"{cause} (after {attempts} attempt(s))")
        self.cause = cause
        self.attempts = attempts


_REGISTERED: dict[str, type[Connector]] = {}


class Connector:
    """Base class of every connector; subclasses fill the class attributes and tables."""

    #: Connector name: lowercase, used in topics (``pivot.raw.<name>``) and the xref's system.
    name: ClassVar[str]
    #: Version of the mappings, recorded in the lineage of every golden record it writes.
    mapping_version: ClassVar[str] = "1"
    settings_class: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    inbound: ClassVar[Mapping[str, Inbound[Any]]] = {}
    outbound: ClassVar[Mapping[str, Outbound[Any]]] = {}
    #: Field of a satellite payload naming its event type, and the one holding its event id.
    event_type_field: ClassVar[str] = "event"
    event_id_field: ClassVar[str] = "event_id"
    #: Dotted path of the field that keys the raw topic (per-source order), e.g. ``"lot.id"``;
    #: several paths when event types carry their subject in different places (first found).
    source_key_path: ClassVar[str | tuple[str, ...] | None] = None
    #: Seconds between polls of a satellite that is polled (None: it pushes webhooks).
    poll_interval_s: ClassVar[float | None] = None
    #: Canonical fields this satellite is the master of, by entity kind: another system's
    #: event never overwrites them in the golden record (:mod:`pivot.pipeline.survivorship`).
    masters: ClassVar[Mapping[str, frozenset[str]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return
        previous = _REGISTERED.get(name)
        if previous is not None and (previous.__module__, previous.__qualname__) != (
            cls.__module__, cls.__qualname__,
        ):
            raise ConfigurationError(
                f"connector name {name!r} is already taken by "
                f"{previous.__module__}.{previous.__qualname__}"
            )
        _REGISTERED[name] = cls

    def __init__(self, settings: ConnectorSettings | None = None) -> None:
        self.settings = settings or self.settings_class()
        self.on_retry: Callable[[RetryCallState], None] | None = None
        #: Set when the process stops: a delivery waiting to retry gives up at once
        #: (:class:`pivot.retry.RetryInterrupted`) and its batch is consumed again later.
        self.interrupt = threading.Event()

    # ---------------------------------------------------------------- inbound

    def parse(self, raw: bytes) -> dict[str, Any]:
        """Decode a raw payload into a JSON object, or raise :class:`MappingError`."""
        try:
            payload = jsoncodec.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MappingError(f"payload is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise MappingError(f"payload is a JSON {type(payload).__name__}, not an object")
        return payload

    def satellite_event_type(self, payload: Mapping[str, Any]) -> str:
        """The satellite's own event type of a payload."""
        value = payload.get(self.event_type_field)
        if not isinstance(value, str) or not value:
            raise MappingError(f"payload has no {self.event_type_field!r} field naming its type")
        return value

    def source_event_id(self, payload: Mapping[str, Any]) -> str | None:
        """The satellite's own id of this event (so its retries dedupe), when it sends one."""
        value = payload.get(self.event_id_field)
        return str(value) if isinstance(value, str | int) and str(value) else None

    def source_key(self, payload: Mapping[str, Any]) -> str | None:
        """The raw topic key of a payload (its source id), when :attr:`source_key_path` finds one."""
        paths = self.source_key_path
        for path in (paths,) if isinstance(paths, str) else paths or ():
            value: Any = payload
            for part in path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if isinstance(value, str | int) and str(value):
                return str(value)
        return None

    def identities(self, payload: Mapping[str, Any]) -> Iterable[tuple[str, str, str]]:
        """The (system, entity, source id) look-ups mapping ``payload`` will make: a hint.

        The translate stage answers the hints of a whole batch in a few queries before mapping
        it (a bulk load then costs no query per record). A hint never changes an answer: a
        missing one costs a query, a wrong one a useless row. Default: no hints.
        """
        return ()

    def translate(self, raw: bytes, ctx: MappingContext) -> Translation:
        """Turn one raw satellite payload into canonical events (the inbound table decides)."""
        return self.translate_payload(self.parse(raw), ctx)

    def translate_payload(self, payload: dict[str, Any], ctx: MappingContext) -> Translation:
        """:meth:`translate` of a payload already parsed by :meth:`parse`."""
        event_type = self.satellite_event_type(payload)
        row = self.inbound.get(event_type)
        if row is None:
            raise UnknownEventError(f"{self.name} has no mapping for event type {event_type!r}")
        try:
            model = row.payload.model_validate(payload)
            events = list(row.map(model, ctx))
        except ValidationError as exc:
            raise MappingError(_validation_message(exc)) from exc
        for event in events:
            if not isinstance(event, row.emits):
                raise MappingError(
                    f"mapping of {event_type!r} emitted {type(event).__name__}, "
                    f"not one of its declared events"
                )
        return Translation(events, event_type, self.source_event_id(payload))

    # ---------------------------------------------------------------- polling

    def poll(self, cursor: str | None) -> Page:
        """Read the next page of a polled satellite from ``cursor`` (None: from the start).

        Connectors with :attr:`poll_interval_s` override this; the hub calls it through
        :meth:`fetch_page`, which adds the retries.
        """
        raise NotImplementedError(f"connector {self.name!r} is not polled")

    def fetch_page(self, cursor: str | None) -> Page:
        """:meth:`poll` with retryable failures retried in place (bounded).

        Raises the last :class:`PivotError` when the satellite stays unavailable.
        """
        s = self.settings
        policy = retry_policy(s.max_attempts, s.max_delay_s, s.initial_wait_s, s.max_wait_s,
                              on_retry=self.on_retry)
        try:
            for attempt in policy:
                with attempt:
                    page = self.poll(cursor)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise RetryableError(f"{type(exc).__name__}: {exc}") from exc
        except ValidationError as exc:
            raise MappingError(_validation_message(exc)) from exc
        return page

    # --------------------------------------------------------------- outbound

    @classmethod
    def outbound_entities(cls) -> list[str]:
        """Entity kinds whose canonical topics this connector consumes."""
        return sorted({row.event.entity_model.kind for row in cls.outbound.values()})

    @cached_property
    def client(self) -> httpx.Client:
        """The satellite's HTTP client, built once."""
        return build_client(self.settings.base_url, self.settings.timeout_s)

    def deliver(self, event: CanonicalEvent, ctx: OutboundContext) -> list[CanonicalEvent]:
        """Deliver one canonical event, retrying retryable failures in place (bounded).

        Raises :class:`DeliveryFailure` wrapping a rejection or the last retryable error.
        """
        row = self.outbound.get(event.event_type)
        if row is None:
            return []
        s = self.settings
        policy = retry_policy(s.max_attempts, s.max_delay_s, s.initial_wait_s, s.max_wait_s,
                              on_retry=self.on_retry, interrupt=self.interrupt)
        attempts = 0
        try:
            for attempt in policy:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    produced = row.deliver(event, ctx)
        except PivotError as exc:
            raise DeliveryFailure(exc, attempts) from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise DeliveryFailure(RetryableError(f"{type(exc).__name__}: {exc}"), attempts) from exc
        except ValidationError as exc:
            raise DeliveryFailure(MappingError(_validation_message(exc)), attempts) from exc
        return list(produced or [])

    def close(self) -> None:
        """Release the HTTP client."""
        if "client" in self.__dict__:
            self.client.close()


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "payload"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def registered() -> dict[str, type[Connector]]:
    """Connector classes imported so far, by name."""
    return dict(_REGISTERED)
