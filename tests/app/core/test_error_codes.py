"""The error-code catalogues: every code raised is a catalogue member, and the generated list of
codes (docs/error-codes.md) is current. Pure source and import checks: no database."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from app.core.errors import DomainError, ErrorCode

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("app", "storefront_api")


def _script():
    spec = importlib.util.spec_from_file_location(
        "error_codes", ROOT / "scripts" / "error_codes.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _script()


@pytest.fixture(scope="module")
def catalogued(script) -> set[ErrorCode]:
    return {member for catalogue in script.catalogues() for member in catalogue}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources():
    for root in SOURCES:
        for path in sorted((ROOT / root).rglob("*.py")):
            yield path, ast.parse(path.read_text(), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def test_generated_list_of_codes_is_current(script):
    assert script.OUTPUT.read_text() == script.render(), (
        "docs/error-codes.md is stale: run python scripts/error_codes.py"
    )


def test_a_code_is_in_one_catalogue_only(script):
    values = [member.value for catalogue in script.catalogues() for member in catalogue]
    assert len(values) == len(set(values))
    assert all(
        member.meaning and member.statuses is not None for c in script.catalogues() for member in c
    )


def test_every_code_raised_is_a_catalogue_member_with_its_status(catalogued):
    """Each `SomeError(..., code=X)` of a DomainError class in app/ and storefront_api/ names a
    catalogue member (never a string), and the class's HTTP status is one the member lists."""
    seen, problems = 0, []
    for path, tree in _sources():
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and any(kw.arg == "code" for kw in node.keywords)
        ]
        if not calls:
            continue
        namespace = vars(importlib.import_module(_module_name(path)))
        for call in calls:
            try:
                error = eval(compile(ast.Expression(call.func), str(path), "eval"), namespace)
            except NameError:  # a local name (a function's variable): not an exception class
                continue
            if not (isinstance(error, type) and issubclass(error, DomainError)):
                continue
            seen += 1
            value = next(kw.value for kw in call.keywords if kw.arg == "code")
            if isinstance(value, ast.Constant):
                problems.append(f"{_where(path, call)}: inline code {value.value!r}")
                continue
            code = eval(compile(ast.Expression(value), str(path), "eval"), namespace)
            if code not in catalogued:
                problems.append(f"{_where(path, call)}: {code!r} is in no catalogue")
            elif code.statuses and error.status not in code.statuses:
                problems.append(
                    f"{_where(path, call)}: {code!r} lists {code.statuses}, not {error.status}"
                )
    assert not problems, "\n".join(problems)
    assert seen >= 60  # the scan finds the raises (67 when the catalogues were made)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_class_code_is_a_catalogue_member_with_its_status(catalogued):
    """Every DomainError subclass defined in app/ and storefront_api/ (each module that defines a
    class is imported) has a catalogued code whose statuses include the class's."""
    for path, tree in _sources():
        if any(isinstance(node, ast.ClassDef) for node in ast.walk(tree)):
            importlib.import_module(_module_name(path))
    classes = [DomainError, *_subclasses(DomainError)]
    assert len(classes) > 10
    problems = [
        f"{cls.__module__}.{cls.__qualname__}: {cls.code!r}"
        for cls in classes
        if cls.__module__.split(".")[0] in SOURCES
        and (
            cls.code not in catalogued
            or (cls.code.statuses and cls.status not in cls.code.statuses)
        )
    ]
    assert not problems, problems


def test_the_api_envelope_codes_are_catalogued(catalogued):
    from storefront_api.errors import CODES, ApiError

    for status, code in CODES.items():
        assert code in catalogued and status in code.statuses
    assert set(ApiError) <= catalogued
