"""Reading a catalog file (JSON or YAML) for `progressctl catalog import`, with line numbers.

Every problem is reported with the line of the offending value, e.g. `courses.yaml:12: course
'py-intro', item 'ch 2' (items.1.contentId): ...`; a file with any problem exits with code 2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
import yaml

from shared.domain import CatalogProblem, Course, InvalidCourse, parse_course

__all__ = ["EXIT_INVALID", "validated"]

Location = tuple[str | int, ...]

EXIT_INVALID = 2
"""The file is not a valid catalog (2, as for any bad usage)."""

_WHITESPACE = re.compile(r"[ \t\n\r]*")


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


def validated(path: Path) -> list[Course]:
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
