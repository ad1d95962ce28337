"""The errors of the xAPI rules: each names where in the request it lies, and why."""

from __future__ import annotations

__all__ = ["InvalidStatement", "RuleBroken"]


class RuleBroken(Exception):
    """A request that breaks a rule, at a path of the request.

    Attributes:
        path: Where the offending property is, dotted from the statement's root with list
            indexes in brackets (`actor.mbox`, `context.contextActivities.parent[0].id`,
            `[2].result.score.scaled` inside a batch), or a parameter's name; empty for the
            statement itself.
        rule: What the property breaks.
    """

    def __init__(self, path: str, rule: str) -> None:
        self.path = path
        self.rule = rule
        super().__init__(path, rule)

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}" if self.path else self.rule


class InvalidStatement(RuleBroken, ValueError):
    """A statement that breaks a rule of the xAPI data model; the LRS answers 400.

    Its `rule` ends with the specification section it comes from (e.g. "must be a mailto
    IRI (Data 2.4.2.3)").
    """

    def within(self, prefix: str) -> InvalidStatement:
        """The same error with its path moved under `prefix` (e.g. a batch index `[3]`)."""
        if not self.path:
            return InvalidStatement(prefix, self.rule)
        joiner = "" if self.path.startswith("[") else "."
        return InvalidStatement(f"{prefix}{joiner}{self.path}", self.rule)
