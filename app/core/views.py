"""Building a frozen view dataclass from a row: the fields a service computes are given, every
other field without a default is read from the row's attribute of the same name (a field with a
default keeps it unless given: a view never loads a relationship it did not ask for)."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

V = TypeVar("V")


def view_of(cls: type[V], row: Any, **given: Any) -> V:
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in given:
            values[f.name] = given.pop(f.name)
        elif f.default is MISSING and f.default_factory is MISSING:
            values[f.name] = getattr(row, f.name)
    if given:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(given))}")
    return cls(**values)
