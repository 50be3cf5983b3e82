"""app.core.views.view_of: given fields win, the others are read from the row by name, a field
with a default is never read from the row, and a given name the view lacks is an error."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from app.core.views import view_of


@dataclass(frozen=True)
class Thing:
    id: int
    name: str
    extra: str | None = None


def test_fields_are_read_by_name_and_given_ones_win():
    row = SimpleNamespace(id=7, name="lamp", extra="loaded")
    assert view_of(Thing, row) == Thing(id=7, name="lamp", extra=None)
    assert view_of(Thing, row, name="LAMP", extra="given") == Thing(7, "LAMP", "given")


def test_a_field_with_a_default_is_not_read_from_the_row():
    class Row:
        id, name = 1, "stool"

        @property
        def extra(self):  # a relationship the view did not ask for
            raise AssertionError("read")

    assert view_of(Thing, Row()).extra is None


def test_a_given_name_the_view_lacks_is_refused():
    with pytest.raises(TypeError, match="no field"):
        view_of(Thing, SimpleNamespace(id=1, name="x"), colour="red")
