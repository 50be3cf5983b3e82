"""The one runner of the admin lists' bulk actions (ship selected sub-orders, publish or archive
products, moderate reviews, mark payments received, retry refunds): each selected row goes through
the app/ service the API calls, one at a time, and the user reads one summary of what went
through and one message per row the service refused, named, with the service's own words.

Categories are the same on every list:
    success   the summary, when at least one row went through ("3 sub-orders shipped.")
    warning   the summary when none did ("No products published."), and per row something to
              watch although it went through (a retried refund the gateway refused again)
    danger    per row, the service's refusal (a DomainError); that row did not change

A row the user's list does not show (another seller's id posted by hand) is named by its id only:
the service refuses it and its name is not told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import abort, flash, redirect, request

from app.core.errors import DomainError

SUCCESS, WARNING, DANGER = "success", "warning", "danger"


def refusal(exc: DomainError) -> str:
    """A service's refusal as one sentence for a person: its message, and for an illegal status
    move the statuses that are allowed now."""
    text = exc.message[:1].upper() + exc.message[1:]
    allowed = exc.details.get("allowed") if isinstance(exc.details, dict) else None
    if allowed is not None:
        steps = ", ".join(str(s).replace("_", " ") for s in allowed) or "none"
        text += f" (possible now: {steps})"
    return text + "."


@dataclass
class Outcome:
    """What a bulk action did: how many rows went through, and the messages per row."""

    done: int = 0
    refused: list[str] = field(default_factory=list)  # danger: the row did not change
    watch: list[str] = field(default_factory=list)  # warning: it went through, but look


def run_each(
    ids: Iterable[int], call: Callable[[int], object], label: Callable[[int], str]
) -> Outcome:
    """`call(id)` for each id: a DomainError is that row's refusal, named by `label(id)`; a string
    `call` returns is something to watch on a row that went through."""
    outcome = Outcome()
    for row_id in ids:
        try:
            said = call(row_id)
        except DomainError as exc:
            outcome.refused.append(f"{label(row_id)}: {refusal(exc)}")
            continue
        outcome.done += 1
        if isinstance(said, str) and said:
            outcome.watch.append(f"{label(row_id)}: {said}")
    return outcome


def summary(count: int, noun: str, verb: str, plural: str | None = None) -> str:
    """ "1 product published.", "3 products published.", "No products published."."""
    plural = plural or f"{noun}s"
    if count == 0:
        return f"No {plural} {verb}."
    return f"{count} {noun if count == 1 else plural} {verb}."


def report(outcome: Outcome, noun: str, verb: str, plural: str | None = None) -> None:
    flash(summary(outcome.done, noun, verb, plural), SUCCESS if outcome.done else WARNING)
    for message in outcome.watch:
        flash(message, WARNING)
    for message in outcome.refused:
        flash(message, DANGER)


class BulkActions:
    """For a ModelView: run a service on each selected row, report, and go back to the list."""

    def _selected(self, items) -> list:
        """FAB hands the rows it loaded for the posted ids (None for an id it could not load: with
        no row left that is a 404)."""
        rows = [row for row in (items if isinstance(items, list) else [items]) if row is not None]
        if not rows:
            abort(404)
        return rows

    def _visible_ids(self, ids: list[int]) -> set[int]:
        """Which of `ids` the user's list shows (FAB's action_post loads rows without the view's
        seller scope; the services refuse the others, and their names are not told)."""
        return {pk for pk in ids if self.datamodel.get(pk, self._base_filters) is not None}

    def _bulk(
        self,
        items,
        call: Callable[[int], object],
        name: Callable,
        noun: str,
        verb: str,
        plural: str | None = None,
    ):
        """`call(row id)` for each selected row, named by `name(row)` where the user may see it;
        one summary ("2 products published.") and one message per refusal or warning."""
        rows = self._selected(items)
        visible = self._visible_ids([row.id for row in rows])
        names = {row.id: name(row) for row in rows if row.id in visible}
        outcome = run_each(
            [row.id for row in rows], call, lambda row_id: names.get(row_id, f"#{row_id}")
        )
        report(outcome, noun, verb, plural)
        return redirect(request.referrer or self.get_redirect())
