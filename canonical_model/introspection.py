"""Reading field annotations: which nested models a field holds, which markers it carries.

Shared by :mod:`canonical_model.pii` and :mod:`canonical_model.quality`, which both walk models
field by field. Containers (``list``, ``tuple``, ``set``, ``dict`` values), ``Optional`` and unions
are looked through; ``Annotated`` metadata is searched for :class:`~pydantic.fields.FieldInfo`
markers in ``json_schema_extra``.
"""

from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo


def _walk(annotation: Any) -> Iterator[Any]:
    """Yield the annotation and everything nested in it (union members, item types, metadata)."""
    yield annotation
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        yield from _walk(base)
        yield from metadata
        return
    for argument in get_args(annotation):
        if argument is not Ellipsis:
            yield from _walk(argument)


def nested_models(annotation: Any) -> tuple[type[BaseModel], ...]:
    """Return the pydantic models a field annotation holds, directly or in containers/unions.

    Args:
        annotation: A field annotation, e.g. ``list[Address] | None``.

    Returns:
        The model classes found, in order, without duplicates.

    """
    found: list[type[BaseModel]] = []
    for item in _walk(annotation):
        if isinstance(item, type) and issubclass(item, BaseModel) and item not in found:
            found.append(item)
    return tuple(found)


def schema_marker(field: FieldInfo, key: str) -> Any:
    """Return the value of an ``x-...`` JSON-schema marker declared on a field or inside its type.

    Args:
        field: The pydantic field.
        key: The marker key, e.g. ``"x-identifier"``.

    Returns:
        The first value found (the field's own declaration wins), or None.

    """
    extra = field.json_schema_extra
    if isinstance(extra, dict) and key in extra:
        return extra[key]
    for item in _walk(field.annotation):
        if isinstance(item, FieldInfo):
            inner = item.json_schema_extra
            if isinstance(inner, dict) and key in inner:
                return inner[key]
    return None
