"""Domain errors. They carry no HTTP: each surface maps them (FHIR OperationOutcome, HTML page)."""

from __future__ import annotations


class CarnetError(Exception):
    """Base of every error a user may see; ``message`` is safe to show (no health data)."""

    code = "processing"

    def __init__(
        self, message: str, *, field: str | None = None, keep_changes: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # When true the transaction boundary commits before surfacing the error: used for the
        # counter of a failed code attempt, which must survive the refusal.
        self.keep_changes = keep_changes


class Invalid(CarnetError):
    """Bad input: the message names what is wrong, ``field`` where."""

    code = "invalid"


class NotFound(CarnetError):
    """Absent, or present but not visible to this actor: the two are indistinguishable."""

    code = "not-found"


class Conflict(CarnetError):
    """The request contradicts the current state (e.g. a closed record, a used code)."""

    code = "conflict"


class Forbidden(CarnetError):
    """The actor is known but the operation is not theirs to do, on a resource they can see."""

    code = "forbidden"


class Unauthenticated(CarnetError):
    """No valid credentials, token or session."""

    code = "login"


class TooManyAttempts(CarnetError):
    """A code or password was tried too many times; the credential is locked."""

    code = "throttled"


class AccessDenied(CarnetError):
    """Raised by ``access`` when a decision refuses. The transaction boundary rolls back what the
    request did, appends ``entry`` (the denial) to the audit trail, commits, then raises
    ``public`` — a ``NotFound`` when the actor may not know the record exists."""

    def __init__(self, public: CarnetError, entry: dict[str, object]) -> None:
        super().__init__(public.message, field=public.field)
        self.public = public
        self.entry = entry
        self.code = public.code
