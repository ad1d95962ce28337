"""`progressctl catalog …`: import, list and show a tenant's course catalog.

`import FILE` reads JSON or YAML holding one course, a list of courses, or `{"courses": [...]}`,
validates all of it first and stores nothing if anything is wrong: each problem is printed as
`FILE:LINE: course …, item … (path): what [rule: …]`. Storing a course queues the catalog job
that judges users' claims on it (see `CourseCatalog.save`); `jobs` shows those jobs. Exit
codes: 0 done, 1 unknown tenant or course, 2 invalid file or bad usage, 3 MongoDB unavailable.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from services.progressctl.catalog_files import validated
from services.progressctl.catalog_job_views import jobs
from services.progressctl.common import load_settings, refuse, with_database
from shared.adapters.catalog_job_store import MongoCatalogJobStore
from shared.adapters.catalog_store import MongoCatalogStore, MongoCertificateStore
from shared.adapters.clock import SystemClock
from shared.adapters.connections import Connections
from shared.adapters.tenants import MongoTenantStore
from shared.domain import Course
from shared.domain.ids import TenantId
from shared.domain.tenants import TenantNotFound
from shared.service_layer.catalog import CourseCatalog, CourseSaved

__all__ = ["catalog_app"]

T = TypeVar("T")

catalog_app = typer.Typer(help="The tenant's course catalog.", no_args_is_help=True)
catalog_app.command("jobs")(jobs)

_TENANT = TypeAdapter[str](TenantId)
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
            MongoCatalogStore(db),
            MongoCertificateStore(db),
            MongoCatalogJobStore(db),
            SystemClock(),
        )
        return await operation(catalog)

    return with_database(on_catalog, refused=(TenantNotFound,))


_FILE_ARGUMENT = typer.Argument(..., exists=True, dir_okay=False, help="JSON or YAML file.")


@catalog_app.command("import")
def import_(
    file: Path = _FILE_ARGUMENT,
    tenant: str | None = _TENANT_OPTION,
    check: bool = typer.Option(False, "--check", help="Only validate; store nothing."),
) -> None:
    """Add or replace the file's courses (all of them, or none if any is invalid)."""
    chosen = _tenant(tenant)
    courses = validated(file)
    if check:
        typer.echo(f"{len(courses)} course(s) valid")
        return

    async def operation(catalog: CourseCatalog) -> list[CourseSaved]:
        return [await catalog.save(chosen, course) for course in courses]

    for course, saved in zip(courses, _with_catalog(chosen, operation), strict=True):
        verb = "created" if saved.created else "replaced"
        typer.echo(
            f"course '{course.course_id}' {verb}: {len(course.items)} item(s); "
            f"claims are judged by job {saved.job.job_id} (progressctl catalog jobs)"
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
