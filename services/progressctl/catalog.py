"""`progressctl catalog …`: import, list and show a tenant's course catalog.

`import FILE` reads JSON or YAML holding one course, a list of courses, or `{"courses": [...]}`,
validates all of it first and stores nothing if anything is wrong: each problem is printed as
`FILE:LINE: course …, item … (path): what [rule: …]`. Storing a course records, before it
replaces the old definition, the certificates that users' claims earned (see
`CourseCatalog.save`). Exit codes: 0 done, 1 unknown tenant or course, 2 invalid file or bad
usage, 3 MongoDB unavailable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from services.progressctl.common import load_settings, refuse, with_database
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.connections import Connections
from shared.adapters.snapshot_store import MongoSnapshotStore
from shared.adapters.tenants import MongoTenantStore, TenantNotFound
from shared.domain import CatalogProblem, Course, InvalidCourse, parse_course
from shared.domain.ids import TenantId
from shared.service_layer.catalog import CatalogChange, CourseCatalog

__all__ = ["catalog_app"]

T = TypeVar("T")
Location = tuple[str | int, ...]

EXIT_INVALID = 2
"""The file is not a valid catalog (2, as for any bad usage)."""

catalog_app = typer.Typer(help="The tenant's course catalog.", no_args_is_help=True)

_TENANT = TypeAdapter[str](TenantId)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_PAGE = 500


def _tenant(value: str | None) -> str:
    """The --tenant value, or PROGRESS_BOOTSTRAP_TENANT, checked for the tenant-id rules."""
    chosen = value if value is not None else load_settings().bootstrap_tenant
    try:
        return _TENANT.validate_python(chosen)
    except ValidationError:
        raise typer.BadParameter(
            f"{chosen!r} is not a tenant id (1-64 of a-z0-9_-)", param_hint="'--tenant'"
        ) from None


_TENANT_OPTION = typer.Option(
    None, "--tenant", help="Tenant id. Default: PROGRESS_BOOTSTRAP_TENANT (demo)."
)


def _with_catalog(tenant: str, operation: Callable[[CourseCatalog], Awaitable[T]]) -> T:
    """Run `operation` on the tenant's catalog; exit 1 for an unknown tenant, 3 for an outage."""

    async def on_catalog(opened: Connections) -> T:
        db = opened.db
        if await MongoTenantStore(db).signing_secret(tenant) is None:
            raise TenantNotFound(f"no tenant '{tenant}'")
        catalog = CourseCatalog(
            MongoCatalogStore(db), MongoCertificateStore(db), MongoSnapshotStore(db)
        )
        return await operation(catalog)

    return with_database(on_catalog, refused=(TenantNotFound,))


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A decoded catalog file, and how to find the line of a value in it."""

    value: object
    line_of: Callable[[Location], int | None]


class _Unreadable(Exception):
    """The file is not valid JSON or YAML; the message names the line."""


def _parse_json(text: str) -> _Parsed:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Unreadable(f"{error.lineno}: not valid JSON: {error.msg}") from None
    return _Parsed(value, lambda location: _json_line(text, location))


def _json_line(text: str, location: Location) -> int | None:
    """The line of the value at `location` in valid JSON text (the last one for a repeated key)."""
    decoder = json.JSONDecoder()

    def skip(index: int) -> int:
        match = _WHITESPACE.match(text, index)
        return index if match is None else match.end()

    index = skip(0)
    for part in location:
        found: int | None = None
        opening, closing = ("{", "}") if isinstance(part, str) else ("[", "]")
        if not text.startswith(opening, index):
            return None
        index = skip(index + 1)
        position = 0
        while not text.startswith(closing, index):
            if isinstance(part, str):
                key, index = decoder.raw_decode(text, index)
                index = skip(skip(index) + 1)  # past the colon
                if key == part:
                    found = index
            elif position == part:
                found = index
                break
            _, index = decoder.raw_decode(text, index)
            index = skip(index)
            if text.startswith(",", index):
                index = skip(index + 1)
            position += 1
        if found is None:
            return None
        index = found
    return text.count("\n", 0, index) + 1


def _parse_yaml(text: str) -> _Parsed:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        value = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = "?" if mark is None else str(mark.line + 1)
        raise _Unreadable(f"{line}: not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise _Unreadable(f"?: not valid YAML: {error}") from None
    finally:
        loader.dispose()
    return _Parsed(value, lambda location: _yaml_line(node, location))


def _yaml_line(root: yaml.Node | None, location: Location) -> int | None:
    """The line of the node at `location` (the last one for a repeated key)."""
    node = root
    for part in location:
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    found = value
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if part < len(node.value) else None
        if found is None:
            return None
        node = found
    return None if node is None else node.start_mark.line + 1


def _courses_in(value: object) -> list[tuple[object, Location]] | None:
    """The course definitions of a file and where each is; None if the shape is wrong."""
    if isinstance(value, list):
        return [(entry, (index,)) for index, entry in enumerate(value)]
    if isinstance(value, dict) and "courseId" not in value and "courses" in value:
        listed = value["courses"]
        if not isinstance(listed, list):
            return None
        return [(entry, ("courses", index)) for index, entry in enumerate(listed)]
    if isinstance(value, dict):
        return [(value, ())]
    return None


def _located(parsed: _Parsed, where: Location, problem: CatalogProblem) -> str:
    """`LINE: problem`, with the line of the offending value or of its nearest parent."""
    location = where + problem.location
    for end in range(len(location), -1, -1):
        line = parsed.line_of(location[:end])
        if line is not None:
            return f"{line}: {problem}"
    return f"?: {problem}"


def _validated(path: Path) -> list[Course]:
    """Every course of the file, or exit 2 after printing every problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}", param_hint="FILE") from None
    try:
        parsed = _parse_json(text) if path.suffix.lower() == ".json" else _parse_yaml(text)
    except _Unreadable as error:
        typer.echo(f"error: {path}:{error}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    entries = _courses_in(parsed.value)
    if not entries:
        typer.echo(
            f"error: {path}: expected a course, a list of courses or {{courses: [...]}}",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    courses: list[Course] = []
    errors: list[str] = []
    first_seen: dict[str, Location] = {}
    for raw, where in entries:
        try:
            course = parse_course(raw)
        except InvalidCourse as invalid:
            errors += [_located(parsed, where, problem) for problem in invalid.problems]
            continue
        if course.course_id in first_seen:
            message = f"courseId already defined at {_field(first_seen[course.course_id])}"
            problem = CatalogProblem(
                course.course_id, None, ("courseId",), "unique_course_ids", message
            )
            errors.append(_located(parsed, where, problem))
            continue
        first_seen[course.course_id] = where
        courses.append(course)
    for report in errors:
        typer.echo(f"error: {path}:{report}", err=True)
    if errors:
        typer.echo(f"nothing imported: {len(errors)} problem(s)", err=True)
        raise typer.Exit(EXIT_INVALID)
    return courses


def _field(location: Location) -> str:
    return ".".join(str(part) for part in location) or "the top"


_FILE_ARGUMENT = typer.Argument(..., exists=True, dir_okay=False, help="JSON or YAML file.")


@catalog_app.command("import")
def import_(
    file: Path = _FILE_ARGUMENT,
    tenant: str | None = _TENANT_OPTION,
    check: bool = typer.Option(False, "--check", help="Only validate; store nothing."),
) -> None:
    """Add or replace the file's courses (all of them, or none if any is invalid)."""
    chosen = _tenant(tenant)
    courses = _validated(file)
    if check:
        typer.echo(f"{len(courses)} course(s) valid")
        return

    async def operation(catalog: CourseCatalog) -> list[CatalogChange]:
        return [await catalog.save(chosen, course) for course in courses]

    for course, change in zip(courses, _with_catalog(chosen, operation), strict=True):
        verb = "created" if change.created else "replaced"
        typer.echo(
            f"course '{course.course_id}' {verb}: {len(course.items)} item(s); "
            f"{change.claims_checked} claim(s) checked, "
            f"{change.certificates_recorded} certificate(s) recorded"
        )


def _summary(course: Course) -> dict[str, Any]:
    return {
        "courseId": course.course_id,
        "title": course.title,
        "items": len(course.items),
        "required": len(course.required_items),
    }


@catalog_app.command("list")
def list_(
    tenant: str | None = _TENANT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the tenant's courses, ordered by courseId."""
    chosen = _tenant(tenant)

    async def operation(catalog: CourseCatalog) -> list[Course]:
        courses: list[Course] = []
        after: str | None = None
        while page := await catalog.courses.page(chosen, after, _PAGE):
            courses += page
            after = page[-1].course_id
        return courses

    courses = _with_catalog(chosen, operation)
    if as_json:
        typer.echo(json.dumps([_summary(course) for course in courses], indent=2))
        return
    table = Table("course", "title", "items", "required")
    for course in courses:
        required = len(course.required_items)
        table.add_row(course.course_id, course.title or "-", str(len(course.items)), str(required))
    Console(highlight=False).print(table)


@catalog_app.command("show")
def show(
    course_id: str = typer.Argument(..., metavar="ID", help="The courseId."),
    tenant: str | None = _TENANT_OPTION,
) -> None:
    """Print one course's definition as JSON."""
    chosen = _tenant(tenant)

    async def operation(catalog: CourseCatalog) -> Course | None:
        return await catalog.courses.get(chosen, course_id)

    course = _with_catalog(chosen, operation)
    if course is None:
        raise refuse(LookupError(f"no course '{course_id}' in the catalog of '{chosen}'"))
    typer.echo(json.dumps(course.to_json(), indent=2, ensure_ascii=False))
