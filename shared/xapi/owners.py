"""Whose per-learner xAPI quota a stored statement, document or attachment counts against.

DESIGN "xAPI cost and bounds": quotas key on the stored userId, else on the agent's
canonical identifier (its `ifi_key`), so an actor the tenant's rule maps to no user still
has a bound. Activity Profile documents have no agent and count per tenant.
"""

from __future__ import annotations

__all__ = ["TENANT_OWNER", "quota_owner"]

TENANT_OWNER = ""
"""The owner of Activity Profile documents (and of agents without an identifier): the tenant."""


def quota_owner(user_id: str | None, agent_key: str | None) -> str:
    """`user:<userId>` when the agent maps to a user, else `agent:<ifi_key>`, else the tenant."""
    if user_id is not None:
        return f"user:{user_id}"
    return f"agent:{agent_key}" if agent_key else TENANT_OWNER
