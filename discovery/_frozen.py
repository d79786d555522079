"""Read-only containers for fitted results: a frozen dict, and typed records that read as mappings.

A :class:`~discovery.Model` is built once and never changed afterwards (a
changed copy comes from ``Model.replace``), so its free-form parts
(``metrics``, ``info``) are :class:`Frozen` dicts, their lists tuples, and its
structured parts (verdict, uncertainty, diagnostics) :class:`Record`
dataclasses whose fields also read by key, ``verdict["status"]`` as
``verdict.status``, so code and JSON written against the old dicts keep
working.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn, TypeVar

__all__ = ["Frozen", "Record", "freeze", "thaw"]


class Frozen(dict):  # type: ignore[type-arg]
    """A dict that refuses changes; :func:`freeze` builds it with nested values frozen too.

    Examples
    --------
    >>> d = freeze({"a": [1, 2]})
    >>> d["a"]
    (1, 2)
    >>> d["b"] = 3  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: This mapping is read-only (part of a fitted result); ...
    """

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("This mapping is read-only (part of a fitted result); copy it with "
                        "dict(...) to change it, or build a changed Model with "
                        "model.replace(...).")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> tuple[type, tuple[dict[Any, Any]]]:
        # Pickle and copy rebuild it from a plain dict (item by item would be refused).
        return (Frozen, (dict(self),))

    def __copy__(self) -> Frozen:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Frozen:
        return self


def freeze(value: Any) -> Any:
    """``value`` with every dict made :class:`Frozen` and every list a tuple, recursively."""
    if isinstance(value, (Frozen, Record)):
        return value  # already frozen all the way down
    if isinstance(value, Mapping):
        return Frozen({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain dicts and lists again (for JSON and for callers who edit a copy)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


R = TypeVar("R", bound="Record")


class Record(Mapping[str, Any]):
    """Base of the typed parts of a result: frozen dataclass fields that read as a mapping.

    A field left ``None`` is absent from the mapping, so an empty record is
    an empty mapping (falsy), and ``dict(record)`` is the dict it replaces.
    Subclasses are ``@dataclasses.dataclass(frozen=True, eq=False)``; equality
    is the mapping's.
    """

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            object.__setattr__(self, field.name, freeze(getattr(self, field.name)))

    @classmethod
    def of(cls: type[R], value: Mapping[str, Any] | None) -> R:
        """``value`` as this record: an instance as it is, a mapping by its keys."""
        if isinstance(value, cls):
            return value
        value = dict(value or {})
        names = cls._names()
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise TypeError(f"{cls.__name__} has no field(s) {', '.join(unknown)}; "
                            f"its fields are: {', '.join(names)}.")
        return cls(**value)

    def __getitem__(self, key: str) -> Any:
        value = getattr(self, key, None) if key in self._names() else None
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._names() if getattr(self, name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The present fields as plain dicts and lists (JSON-ready)."""
        return {name: thaw(getattr(self, name)) for name in self}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self[k]!r}" for k in self)
        return f"{type(self).__name__}({shown})"
