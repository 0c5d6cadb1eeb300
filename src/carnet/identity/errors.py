"""The error raised for a malformed identifier."""

from __future__ import annotations

from carnet.errors import Invalid


class InvalidIdentifier(Invalid):
    """An identifier (NIR, INS, RPPS, ADELI, FINESS, SIREN, SIRET, …) is malformed.

    ``message`` says exactly what is wrong and never contains the identifier itself:
    it names the part at fault (the key, the birth month, the department, …) so the
    message can be shown to the user and written to logs.

    ``identifier`` names the kind of identifier ("NIR", "RPPS", …) and ``part`` the
    part at fault ("key", "birth_month", "length", …), for surfaces that want to map
    the error to something more precise than a message.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        identifier: str | None = None,
        part: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.identifier = identifier
        self.part = part

    def within(self, context: str) -> InvalidIdentifier:
        """The same error, its message prefixed with ``context`` (e.g. "INS matricule")."""
        return InvalidIdentifier(
            f"{context}: {self.message}",
            field=self.field,
            identifier=self.identifier,
            part=self.part,
        )
