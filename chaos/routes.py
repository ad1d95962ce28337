"""The gateway's routes, read from its own OpenAPI document at run time, with body seeds.

Reading `GET /openapi.json` instead of a list kept here means a route added to the gateway
is fuzzed by the next run without touching the campaign. A route's seeds are its OpenAPI
examples, or else one instance built from its request schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

__all__ = ["Route", "discover"]

_METHODS = ("get", "put", "post", "delete", "patch")
_EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True)
class Route:
    """One operation: method, path template, its path and query parameters, body seeds."""

    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    has_body: bool
    seeds: tuple[Any, ...]
    origin: str
    """The server's base URL: requests go to `origin` + the path."""
    streams: bool = False
    """Its 200 is an event stream that stays open: the fuzzer reads only its head."""

    @property
    def label(self) -> str:
        """`METHOD /path/{template}`: how the report names the route."""
        return f"{self.method} {self.path}"


def discover(base_url: str) -> list[Route]:
    """Every operation the OpenAPI document at `base_url` lists, each sent to `base_url`."""
    document = httpx.get(f"{base_url}/openapi.json", timeout=30.0).raise_for_status().json()
    components = document.get("components", {}).get("schemas", {})
    routes: list[Route] = []
    for path, operations in sorted(document.get("paths", {}).items()):
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            parameters = operation.get("parameters", [])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            routes.append(
                Route(
                    method=method.upper(),
                    path=path,
                    path_params=tuple(p["name"] for p in parameters if p.get("in") == "path"),
                    query_params=tuple(p["name"] for p in parameters if p.get("in") == "query"),
                    has_body=body is not None,
                    seeds=tuple(_seeds(body, components)) if body is not None else (),
                    origin=base_url,
                    streams=_EVENT_STREAM in _success_content(operation),
                )
            )
    return routes


def _success_content(operation: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = operation.get("responses", {}).get("200", {}).get("content", {})
    return content


def _seeds(content: dict[str, Any], components: dict[str, Any]) -> list[Any]:
    examples = [
        example["value"]
        for example in content.get("examples", {}).values()
        if isinstance(example, dict) and "value" in example
    ]
    if "example" in content:
        examples.append(content["example"])
    return examples or [_instance(content.get("schema", {}), components, 0)]


def _instance(schema: dict[str, Any], components: dict[str, Any], depth: int) -> Any:
    """A plausible value for a JSON schema: every property filled, one item per array."""
    if depth > 12:
        return None
    if "$ref" in schema:
        target = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        return _instance(target, components, depth + 1)
    for combinator in ("oneOf", "anyOf", "allOf"):
        if schema.get(combinator):
            return _instance(schema[combinator][0], components, depth + 1)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: _instance(sub, components, depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [_instance(schema.get("items", {}), components, depth + 1)]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") == "date-time":
            return datetime.now(UTC).isoformat()
        return "x" * max(1, schema.get("minLength", 1))
    return None
