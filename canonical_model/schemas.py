"""JSON Schemas of the canonical events and entities, and the committed copies under contracts/.

The committed schemas (``contracts/schemas/events/<event_type>.json`` and
``contracts/schemas/entities/<kind>.json``) are the contract satellites and integrators read; CI
regenerates them and fails on any difference (:func:`check_schemas`). Files are written with sorted
keys, two-space indentation and a trailing newline, so regeneration is byte-for-byte stable.

Run ``python -m canonical_model export|check [DIRECTORY]`` (default ``contracts/schemas``).
"""

import json
import sys
from pathlib import Path
from typing import Any

from canonical_model.base import CanonicalModel
from canonical_model.entities import ENTITY_TYPES, entity_class
from canonical_model.events import EVENT_TYPES, CanonicalEvent, event_class

SCHEMA_URI_PREFIX = "pivot:contracts/schemas/"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
EVENTS_DIR = "events"
ENTITIES_DIR = "entities"


def schema_id(event_type: str) -> str:
    """Return the schema id of an event type (the CloudEvents ``dataschema``).

    Args:
        event_type: E.g. ``"fr.pivot.lease.notice_given.v1"``.

    Returns:
        E.g. ``"pivot:contracts/schemas/events/fr.pivot.lease.notice_given.v1.json"``, which is
        also where the file lives in the repository.

    """
    return f"{SCHEMA_URI_PREFIX}{EVENTS_DIR}/{event_type}.json"


def entity_schema_id(kind: str) -> str:
    """Return the schema id of an entity kind.

    Args:
        kind: E.g. ``"lease"``.

    Returns:
        E.g. ``"pivot:contracts/schemas/entities/lease.json"``.

    """
    return f"{SCHEMA_URI_PREFIX}{ENTITIES_DIR}/{kind}.json"


def _schema(model: type[CanonicalModel], schema_uri: str, **extra: Any) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.update({"$id": schema_uri, "$schema": JSON_SCHEMA_DIALECT, "title": model.__name__})
    schema.update(extra)
    return schema


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    branches = [b for b in prop.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) != 1:
        return {key: value for key, value in prop.items() if key != "default"}
    rest = {key: value for key, value in prop.items() if key not in {"anyOf", "default"}}
    return {**branches[0], **rest}


def _apply_event_rules(schema: dict[str, Any], cls: type[CanonicalEvent]) -> None:
    """Carry the event's own rules (allowed statuses, required fields) into its schema."""
    properties = schema["properties"]
    required = set(schema.get("required", []))
    if cls.allowed_statuses:
        status = {k: v for k, v in properties[cls.status_field].items() if k != "default"}
        status["enum"] = sorted(str(value) for value in cls.allowed_statuses)
        properties[cls.status_field] = status
        required.add(cls.status_field)
    for name in cls.required_fields:
        properties[name] = _without_null(properties[name])
        required.add(name)
    schema["required"] = sorted(required, key=list(properties).index)


def event_schema(event_type: str) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of an event payload.

    Args:
        event_type: A registered event type.

    Returns:
        The schema, with ``$id`` (:func:`schema_id`), ``$schema``, ``title``, the markers
        ``x-pivot-event-type``, ``x-pivot-entity`` and ``x-pivot-version``, and the event's
        own rules: its allowed statuses as an ``enum``, its required fields as non-null.

    Raises:
        UnknownEventType: If the event type is not registered.

    """
    cls = event_class(event_type)
    schema = _schema(
        cls,
        schema_id(event_type),
        **{
            "x-pivot-event-type": event_type,
            "x-pivot-entity": cls.entity_model.kind,
            "x-pivot-version": cls.version,
        },
    )
    _apply_event_rules(schema, cls)
    return schema


def entity_schema(kind: str) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of an entity.

    Args:
        kind: An entity kind, e.g. ``"lot"``.

    Returns:
        The schema, with ``$id`` (:func:`entity_schema_id`), ``$schema``, ``title`` and
        ``x-pivot-entity``.

    Raises:
        UnknownEntityKind: If no entity has that kind.

    """
    return _schema(entity_class(kind), entity_schema_id(kind), **{"x-pivot-entity": kind})


def _render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate_schemas() -> dict[str, str]:
    """Render every schema file in memory.

    Returns:
        Relative path (``events/<event_type>.json``, ``entities/<kind>.json``) → file text.

    """
    files = {
        f"{EVENTS_DIR}/{event_type}.json": _render(event_schema(event_type))
        for event_type in sorted(EVENT_TYPES)
    }
    for kind in sorted(ENTITY_TYPES):
        files[f"{ENTITIES_DIR}/{kind}.json"] = _render(entity_schema(kind))
    return files


def _committed(directory: Path) -> dict[str, Path]:
    return {
        f"{sub}/{path.name}": path
        for sub in (EVENTS_DIR, ENTITIES_DIR)
        for path in sorted((directory / sub).glob("*.json"))
    }


def export_schemas(directory: Path) -> list[Path]:
    """Write every schema under ``directory`` and remove stale ones.

    Only ``events/*.json`` and ``entities/*.json`` are managed; other files are left alone.

    Args:
        directory: Target folder, normally ``contracts/schemas``.

    Returns:
        The paths written, sorted.

    """
    directory = Path(directory)
    files = generate_schemas()
    for relative, path in _committed(directory).items():
        if relative not in files:
            path.unlink()
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return sorted(written)


def check_schemas(directory: Path) -> list[str]:
    """Compare committed schemas with freshly generated ones.

    Args:
        directory: The committed folder, normally ``contracts/schemas``.

    Returns:
        One line per difference (``missing: ...``, ``changed: ...``, ``extra: ...``), sorted;
        empty when the committed schemas are up to date.

    """
    directory = Path(directory)
    files = generate_schemas()
    committed = _committed(directory)
    differences = [f"missing: {relative}" for relative in files if relative not in committed]
    differences += [
        f"changed: {relative}"
        for relative, text in files.items()
        if relative in committed and committed[relative].read_text(encoding="utf-8") != text
    ]
    differences += [f"extra: {relative}" for relative in committed if relative not in files]
    return sorted(differences)


def main(argv: list[str] | None = None) -> int:
    """Export or check the committed schemas from the command line.

    Args:
        argv: ``["export" | "check", DIRECTORY?]``; defaults to ``sys.argv[1:]``.

    Returns:
        The process exit code: 0 on success, 1 when ``check`` finds differences, 2 on bad usage.

    """
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in {"export", "check"} or len(args) > 2:
        print("usage: python -m canonical_model export|check [DIRECTORY]", file=sys.stderr)
        return 2
    directory = Path(args[1] if len(args) == 2 else "contracts/schemas")
    if args[0] == "export":
        print(f"wrote {len(export_schemas(directory))} schemas under {directory}")
        return 0
    differences = check_schemas(directory)
    for line in differences:
        print(line)
    if differences:
        print(f"{len(differences)} schema(s) out of date: run the export", file=sys.stderr)
    return 1 if differences else 0
