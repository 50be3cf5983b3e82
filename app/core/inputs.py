"""Typed inputs of the services: a partial update (PATCH) tells "not sent" (UNSET) from None."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, Final, Literal


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]


@dataclass(frozen=True)
class Changes:
    """Base of a partial update's input: a field left UNSET was not sent and keeps its value; None
    is a value (it clears an optional field)."""

    def given(self) -> dict[str, Any]:
        """The fields that were sent, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not UNSET
        }

    def __contains__(self, name: str) -> bool:
        return getattr(self, name, UNSET) is not UNSET
