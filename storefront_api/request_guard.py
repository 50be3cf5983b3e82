"""Hostile input on /api/ paths, refused in the envelope before it reaches a parser, a schema or
the database; one rule per kind. A refused nesting or text is logged as one warning line (never
the input itself, never a traceback):

- **Size**: `MAX_CONTENT_LENGTH` bytes per body (werkzeug raises 413, the envelope's
  `payload_too_large`; config.py).
- **Nesting**: a JSON body nested deeper than `API_MAX_JSON_DEPTH` levels is a 400 `bad_request`,
  found by a linear scan *before* the recursive parser runs (a `[[[[...]]]]` of 100,000 levels
  used to raise RecursionError: a 500 and a traceback per request). Flask's JSON provider does
  the scan, so `request.get_json()` anywhere and the API's argument parser (which reads bodies
  through that provider) share it.
- **Text**: a string that cannot be encoded as UTF-8 (an unpaired surrogate: `"\\ud800"` in JSON;
  the database driver failed on it with a 500) or that holds a NUL character is a 422 naming the
  field, names included: bodies in the argument parser (`StrictParser`), the query string, path
  arguments and header values before the request reaches a view.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from itertools import accumulate
from typing import Any

from flask import Flask, has_request_context, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import MultiDict

from app.core.errors import ValidationError

log = logging.getLogger(__name__)

UNPAIRED_SURROGATE = "must be valid UTF-8 text (it holds an unpaired surrogate)"
NUL_CHARACTER = "must not contain NUL characters"
MAX_REPORTED = 20  # field errors named in one answer; the walk stops there

_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


# --- nesting -----------------------------------------------------------------------------------


class JSONTooDeep(json.JSONDecodeError):
    """A JSONDecodeError, so that Flask's get_json (ValueError) and webargs (JSONDecodeError) both
    answer it as a malformed body (400)."""

    def __init__(self, limit: int, doc: str):
        message = f"the JSON body is nested deeper than {limit} levels"
        ValueError.__init__(self, message)
        # webargs reads an empty doc as "no body": keep the (non-empty) text
        self.msg, self.doc, self.pos, self.lineno, self.colno = message, doc, 0, 1, 1


def json_nesting_exceeds(text: str, limit: int) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than `limit`, in linear time and
    without recursion. Brackets inside strings do not count. Escapes are removed first: in JSON a
    backslash only appears in a string and always escapes exactly the next character, so dropping
    `\\\\` pairs, then `\\"`, leaves only the quotes that open and close strings."""
    if text.count("[") + text.count("{") <= limit:
        return False
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    outside_strings = "".join(unescaped.split('"')[::2])
    brackets = _NOT_A_BRACKET.sub("", outside_strings)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with the nesting limit on every load (see the module docstring)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = (
            s.decode(json.detect_encoding(s), "surrogatepass")
            if isinstance(s, (bytes, bytearray))
            else s
        )
        limit = int(self._app.config.get("API_MAX_JSON_DEPTH", 64))
        if json_nesting_exceeds(text, limit):
            _log_refusal(f"JSON body nested deeper than {limit} levels")
            raise JSONTooDeep(limit, text)
        try:
            return json.loads(text, **kwargs)
        except RecursionError:  # malformed (unclosed) nesting, or a limit set above Python's own
            _log_refusal("JSON body nested too deeply for the parser")
            raise JSONTooDeep(limit, text) from None


# --- text ----------------------------------------------------------------------------------------


def _safe_name(name: Any) -> Any:
    """A field name fit to echo in an answer or a log line (bad characters escaped)."""
    if not isinstance(name, str):
        return name
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _problem(text: str) -> str | None:
    match = _BAD_CHARACTER.search(text)
    if match is None:
        return None
    return NUL_CHARACTER if match.group() == "\x00" else UNPAIRED_SURROGATE


def _children(value: Any) -> Iterable[tuple[Any, Any]] | None:
    if isinstance(value, MultiDict):  # a query string or a form: each value under its key
        return value.items(multi=True)
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, (list, tuple)):
        return enumerate(value)
    return None


def text_errors(data: Any) -> dict:
    """Field errors for every string of `data` (JSON-like, or a MultiDict) that holds an unpaired
    surrogate or a NUL, names (keys) included, nested like marshmallow's: {"items": {0: {"title":
    [...]}}}. At most MAX_REPORTED; iterative, so any depth is safe."""
    errors: dict = {}
    found = 0
    stack: list[tuple[tuple, Any]] = [((), data)]
    while stack and found < MAX_REPORTED:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = _problem(value)
            if problem is not None:
                found += 1
                _put(errors, path or ("_body",), problem)
            continue
        children = _children(value)
        if children is None:
            continue
        pushed = []
        for key, child in children:
            if isinstance(key, str) and (problem := _problem(key)) is not None:
                found += 1
                _put(errors, (*path, key), f"the name {problem}")
            pushed.append(((*path, key), child))
        stack.extend(reversed(pushed))
    return errors


def _put(errors: dict, path: tuple, message: str) -> None:
    node = errors
    for part in path[:-1]:
        node = node.setdefault(_safe_name(part), {})
        if not isinstance(node, dict):  # a name and a value below it both bad: keep the first
            return
    messages = node.setdefault(_safe_name(path[-1]), [])
    if isinstance(messages, list) and message not in messages:
        messages.append(message)


def refuse_bad_text(data: Any, where: str) -> None:
    """Raise a 422 naming each field of `data` that holds text we refuse."""
    errors = text_errors(data)
    if errors:
        _log_refusal(f"unencodable or NUL text in {where}: {', '.join(map(str, errors))}")
        raise ValidationError(f"invalid text in the {where}", details=errors)


def _refuse_bad_request_text() -> None:
    """before_request on /api/ paths: the query string, the path arguments and the header values
    (a guest's cart token, an Idempotency-Key, the user agent reach the database)."""
    if not request.path.startswith("/api/"):
        return
    headers = [
        value
        for key, value in request.environ.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    ]
    args = request.args
    # the common case in one search over everything; the walk that names the fields only on a hit
    every_text = [
        *headers,
        *(part for pair in args.items(multi=True) for part in pair),
        *map(str, (request.view_args or {}).values()),
    ]
    if _BAD_CHARACTER.search("\n".join(every_text)) is None:
        return
    refuse_bad_text(args, "query string")
    refuse_bad_text(request.view_args or {}, "path")
    refuse_bad_text(dict(request.headers.items()), "headers")


def _log_refusal(reason: str) -> None:
    where = (
        f"{request.method} {_safe_name(request.path)} from {request.remote_addr}"
        if has_request_context()
        else "-"
    )
    log.warning("refused hostile input on %s: %s", where, reason)


def install(app: Flask) -> None:
    """Every request's JSON goes through the guarded provider; the text check runs before any
    other before_request hook (tenant resolution reads X-Tenant from the database)."""
    app.json = GuardedJSONProvider(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_bad_request_text)
