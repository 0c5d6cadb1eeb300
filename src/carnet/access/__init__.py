"""Access: WHO may do WHAT to WHOSE record — the only place that decides.

``policy`` holds the pure decision (actor × action × record facts → decision), ``gate`` loads the
facts, decides, writes the audit row in the caller's transaction and raises ``AccessDenied``
when refused. Every service that touches patient data goes through ``gate.authorize``.
"""

from carnet.access.policy import (
    URGENT_MODES,
    Action,
    Actor,
    ActorKind,
    Decision,
    Mode,
    RecordFacts,
    decide,
    decide_creation,
    is_excluded,
)

__all__ = [
    "URGENT_MODES",
    "Action",
    "Actor",
    "ActorKind",
    "Decision",
    "Mode",
    "RecordFacts",
    "decide",
    "decide_creation",
    "is_excluded",
]
