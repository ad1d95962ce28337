"""The course catalog: what a course (program, path, algorithm) is made of, and its validation.

A course is an ordered list of items, each naming a `contentId` whose progress the snapshot
already holds, plus the rule that decides when the course earns its certificate. One item
may belong to several courses; its progress is shared. `parse_course` turns untrusted JSON
into a `Course` or raises `InvalidCourse` listing every problem, each naming the course, the
item, where it is (a path such as `items.2.contentId`) and the rule it breaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from .ids import Id
from .payloads import ContractModel
from .values import Omittable

__all__ = [
    "MAX_ITEMS",
    "CatalogItem",
    "CatalogProblem",
    "CertificateRule",
    "Course",
    "GroupKey",
    "InvalidCourse",
    "parse_course",
]

MAX_ITEMS = 1000
"""Most items one course may list."""

Location = tuple[str | int, ...]
"""Where a problem is inside one course's JSON, e.g. `("items", 2, "contentId")`."""


def _printable(value: str) -> str:
    if value.isprintable():
        return value
    raise PydanticCustomError("printable", "Text must not contain control characters")


Label = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_printable)]
"""A short name chosen by the app: an item kind, a group name."""

Title = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_printable)]
"""A human-readable title."""

GroupKey = Annotated[int, Field(ge=0, le=10_000)] | Label
"""A group of items: a week or module number, or a name (`"module-2"`)."""


class CatalogItem(ContractModel):
    """One item of a course, in course order."""

    content_id: Id
    """The item's contentId, as events name it."""
    kind: Label
    """What the item is, e.g. `chapter`, `step`, `quiz`, `video`, `session`."""
    required: bool = True
    """Whether the item counts towards completion and the certificate."""
    group: Omittable[GroupKey] = None
    """The week, module or other group the item belongs to, for grouped views."""
    day: Omittable[Annotated[int, Field(ge=1, le=366)]] = None
    """The day of the item within its group or program (a workout week view)."""
    label: Omittable[Title] = None
    """A title to show for the item."""
    complete_when: Omittable[Literal["completed", "passed"]] = None
    """The status that counts as done; default `passed` for kind `quiz`, else `completed`."""

    @property
    def needs(self) -> Literal["completed", "passed"]:
        """The status that counts as done for this item (see `complete_when`)."""
        if self.complete_when is not None:
            return self.complete_when
        return "passed" if self.kind == "quiz" else "completed"


class CertificateRule(ContractModel):
    """When a `course.completed` claim earns the certificate."""

    min_percentage: Annotated[int, Field(ge=1, le=100)] = 100
    """Share of the required items that must be done at the claim's time (100: all of them)."""


class Course(ContractModel):
    """A course of a tenant's catalog."""

    course_id: Id
    """The courseId, as `course.completed` events name it (a PUT body may leave it out)."""
    title: Omittable[Title] = None
    items: Annotated[list[CatalogItem], Field(min_length=1, max_length=MAX_ITEMS)]
    """The items in course order; contentIds are unique within the course."""
    certificate: CertificateRule = Field(default_factory=CertificateRule)
    """When a claim earns the certificate; by default every required item must be done."""

    @property
    def required_items(self) -> list[CatalogItem]:
        """The items that count towards completion, in course order."""
        return [item for item in self.items if item.required]

    def to_json(self) -> dict[str, Any]:
        """The course as JSON (camelCase), defaults included, unset options left out."""
        return self.model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """One thing wrong with a course definition.

    Attributes:
        course_id: The courseId as given, or None when it could not be read.
        item: The offending item's contentId as given, or None (the problem is not in an
            item, or the item has no readable contentId).
        location: The path of the offending value inside the course's JSON.
        rule: A short code of the rule broken (`id_format`, `unique_item_ids`, `missing`, ...).
        message: What is wrong, for humans.
    """

    course_id: str | None
    item: str | None
    location: Location
    rule: str
    message: str

    @property
    def field(self) -> str:
        """The location as a dotted path (`items.2.contentId`), or `course` for the whole."""
        return ".".join(str(part) for part in self.location) or "course"

    def __str__(self) -> str:
        course = "course ?" if self.course_id is None else f"course {self.course_id!r}"
        item = f", item {self.item!r}" if self.item is not None else ""
        return f"{course}{item} ({self.field}): {self.message} [rule: {self.rule}]"


class InvalidCourse(ValueError):
    """A course definition that breaks the catalog's rules; nothing of it may be stored.

    Attributes:
        problems: Every problem found (at least one), in document order where known.
    """

    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        super().__init__(problems)

    def __str__(self) -> str:
        first = str(self.problems[0])
        more = len(self.problems) - 1
        return first if more == 0 else f"{first} (and {more} more problem(s))"


def parse_course(raw: object, *, course_id: str | None = None) -> Course:
    """Validate one course definition as decoded from JSON or YAML.

    Args:
        raw: The decoded value; it must be an object with camelCase keys.
        course_id: The courseId the caller addresses (a URL path); the definition's own
            `courseId` may then be left out, and must equal it when given.

    Returns:
        The course, with every contentId unique and at least one item required.

    Raises:
        InvalidCourse: Listing every problem found.
    """
    if not isinstance(raw, dict):
        raise InvalidCourse([CatalogProblem(course_id, None, (), "object", _NOT_AN_OBJECT)])
    given = raw.get("courseId")
    if course_id is not None:
        if given is not None and given != course_id:
            message = f"courseId {given!r} differs from the addressed course {course_id!r}"
            problem = CatalogProblem(course_id, None, ("courseId",), "course_id_matches", message)
            raise InvalidCourse([problem])
        raw = {**raw, "courseId": course_id}
    named = course_id if course_id is not None else given if isinstance(given, str) else None
    try:
        course = Course.model_validate(raw, by_alias=True, by_name=False)
    except ValidationError as error:
        raise InvalidCourse(list(_problems_of(error, raw, named))) from None
    problems = list(_rule_problems(course))
    if problems:
        raise InvalidCourse(problems)
    return course


_NOT_AN_OBJECT = "a course must be an object with courseId and items"


def _problems_of(
    error: ValidationError, raw: dict[str, Any], course_id: str | None
) -> Iterator[CatalogProblem]:
    """Translate pydantic's findings into problems that name the course and the item."""
    items = raw.get("items")
    for found in error.errors(include_url=False, include_input=False):
        location: Location = tuple(found["loc"])
        item: str | None = None
        if len(location) >= 2 and location[0] == "items" and isinstance(location[1], int):
            entry = items[location[1]] if isinstance(items, list) else None
            content_id = entry.get("contentId") if isinstance(entry, dict) else None
            item = content_id if isinstance(content_id, str) else f"#{location[1] + 1}"
        yield CatalogProblem(course_id, item, location, found["type"], found["msg"])


def _rule_problems(course: Course) -> Iterator[CatalogProblem]:
    """The rules that span items: unique contentIds, at least one required item."""
    seen: dict[str, int] = {}
    for index, item in enumerate(course.items):
        first = seen.setdefault(item.content_id, index)
        if first != index:
            yield CatalogProblem(
                course.course_id,
                item.content_id,
                ("items", index, "contentId"),
                "unique_item_ids",
                f"contentId already listed as items.{first}; an item may appear once per course",
            )
    if not course.required_items:
        yield CatalogProblem(
            course.course_id,
            None,
            ("items",),
            "has_required_item",
            "at least one item must be required (completion is measured on required items)",
        )
