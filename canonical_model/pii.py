"""Personal data classification of canonical fields, and redaction driven by it.

Each field that can hold personal data declares its class with :func:`pii`; the class lands in the
field's JSON Schema as ``"x-pii"``. :func:`redact` uses those declarations to scrub payloads before
they reach logs, spans or dead-letter previews, so "no PII in logs" is enforced by the model
rather than by every caller remembering it.

Paths are dotted field names (``covered_address``, ``holder.last_name``); lists and optionals are
looked through, so a path inside a list applies to every element.
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from canonical_model.introspection import nested_models, schema_marker

PII_SCHEMA_KEY = "x-pii"
REDACTED = "[redacted]"


class PIIClass(StrEnum):
    """How personal a field's value is.

    Attributes:
        NONE: Not personal data (a building address, a rent amount).
        IDENTITY: Identifies a person: names, a person's policy number.
        CONTACT: Reaches a person: email, phone, a person's home address.
        SENSITIVE: Birth date, and free text written by or about a tenant (may contain anything).

    """

    NONE = "none"
    IDENTITY = "identity"
    CONTACT = "contact"
    SENSITIVE = "sensitive"


def pii(cls: PIIClass, **field_kwargs: Any) -> Any:
    """Declare a model field with its PII class (a :func:`pydantic.Field` wrapper).

    Args:
        cls: The PII class of the field.
        **field_kwargs: Any :func:`pydantic.Field` argument (``default``, ``min_length``...).

    Returns:
        The :class:`~pydantic.fields.FieldInfo` (typed ``Any``, like ``Field``, so that
        ``name: str = pii(...)`` type-checks).

    Raises:
        TypeError: If ``json_schema_extra`` is given as something other than a dict.

    """
    extra = field_kwargs.pop("json_schema_extra", None) or {}
    if not isinstance(extra, dict):
        raise TypeError("pii() merges json_schema_extra and needs it as a dict")
    return Field(json_schema_extra={**extra, PII_SCHEMA_KEY: PIIClass(cls).value}, **field_kwargs)


def field_pii_class(field: FieldInfo) -> PIIClass:
    """Return the PII class declared on a field (``PIIClass.NONE`` when undeclared).

    Args:
        field: A pydantic field.

    Returns:
        The declared class.

    """
    value = schema_marker(field, PII_SCHEMA_KEY)
    return PIIClass.NONE if value is None else PIIClass(value)


_PiiTree: TypeAlias = Mapping[str, "PIIClass | _PiiTree"]
_TREES: dict[type[BaseModel], _PiiTree] = {}


def _build_tree(model_cls: type[BaseModel], ancestors: frozenset[type[BaseModel]]) -> _PiiTree:
    tree: dict[str, PIIClass | _PiiTree] = {}
    for name, field in model_cls.model_fields.items():
        declared = field_pii_class(field)
        if declared is not PIIClass.NONE:
            tree[name] = declared
            continue
        subtree: dict[str, PIIClass | _PiiTree] = {}
        for nested in nested_models(field.annotation):
            if nested not in ancestors:
                subtree.update(_build_tree(nested, ancestors | {nested}))
        if subtree:
            tree[name] = MappingProxyType(subtree)
    return MappingProxyType(tree)


def _tree(model_cls: type[BaseModel]) -> _PiiTree:
    tree = _TREES.get(model_cls)
    if tree is None:
        tree = _TREES[model_cls] = _build_tree(model_cls, frozenset({model_cls}))
    return tree


def _flatten(tree: _PiiTree, prefix: str, out: dict[str, PIIClass]) -> None:
    for name, node in tree.items():
        if isinstance(node, PIIClass):
            out[prefix + name] = node
        else:
            _flatten(node, f"{prefix}{name}.", out)


def pii_fields(model_cls: type[BaseModel]) -> dict[str, PIIClass]:
    """List every personal-data field of a model, nested models included.

    Args:
        model_cls: A model class, e.g. ``Tenant`` or ``InsuranceCertificateReceived``.

    Returns:
        Dotted path → PII class, for fields whose class is not ``NONE``. A field declared PII as
        a whole (``covered_address``) is listed once, its sub-fields are not.

    """
    out: dict[str, PIIClass] = {}
    _flatten(_tree(model_cls), "", out)
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value


def _redact_node(node: "PIIClass | _PiiTree", value: Any) -> Any:
    if value is None:
        return None
    if isinstance(node, PIIClass):
        return REDACTED
    if isinstance(value, Mapping):
        return _redact_mapping(node, value)
    if isinstance(value, list | tuple):
        return [_redact_node(node, item) for item in value]
    # Something unexpected where a model with personal sub-fields should be: fail safe.
    return REDACTED


def _redact_mapping(tree: _PiiTree, data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        node = tree.get(key)
        out[key] = _copy(value) if node is None else _redact_node(node, value)
    return out


def redact(model_cls: type[BaseModel], data: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    """Return a deep copy of a payload with every personal-data value replaced by ``"[redacted]"``.

    ``None`` stays ``None`` (absence is not personal data). Keys the model does not declare are
    copied as they are. The per-class path computation is cached, so this is cheap enough to call
    for every log line.

    Args:
        model_cls: The model describing ``data``.
        data: A payload (e.g. ``model_dump(mode="json")`` output) or a model instance.

    Returns:
        A new dict; ``data`` is left untouched.

    """
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return _redact_mapping(_tree(model_cls), data)
