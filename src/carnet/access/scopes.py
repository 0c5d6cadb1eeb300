"""SMART App Launch scopes (v1 ``.read/.write`` and v2 ``.cruds``): which interactions a token
allows on which resource type. Pure functions."""

from __future__ import annotations

V1 = {"read": frozenset("rs"), "write": frozenset("cud"), "*": frozenset("cruds")}
INTERACTIONS = {"create": "c", "read": "r", "update": "u", "delete": "d", "search": "s"}


def parse_scope(scope: str) -> tuple[str, str, frozenset[str]] | None:
    """``patient/Observation.rs`` → ("patient", "Observation", {"r","s"}); None if not a
    resource scope (``openid``, ``launch/patient``…)."""
    if "/" not in scope or "." not in scope:
        return None
    context, rest = scope.split("/", 1)
    if context not in ("patient", "user", "system"):
        return None
    resource, _, perms = rest.partition(".")
    if "?" in perms:
        return None  # granular (query-restricted) scopes are not supported: never widened
    if perms in V1:
        return context, resource, V1[perms]
    if perms and set(perms) <= set("cruds"):
        return context, resource, frozenset(perms)
    return None


def allows(scopes: frozenset[str], resource_type: str, interaction: str) -> bool:
    wanted = INTERACTIONS[interaction]
    for scope in scopes:
        parsed = parse_scope(scope)
        if parsed is None:
            continue
        _, resource, perms = parsed
        if resource in ("*", resource_type) and wanted in perms:
            return True
    return False


def narrow(requested: str, allowed: str) -> str:
    """The requested scopes an app may have: each one must be covered by an allowed scope."""
    allowed_set = allowed.split()
    kept = []
    for scope in requested.split():
        parsed = parse_scope(scope)
        if parsed is None:
            if scope in allowed_set:
                kept.append(scope)
            continue
        context, resource, perms = parsed
        for candidate in allowed_set:
            other = parse_scope(candidate)
            if other and other[0] == context and other[1] in ("*", resource) and perms <= other[2]:
                kept.append(scope)
                break
    return " ".join(kept)
