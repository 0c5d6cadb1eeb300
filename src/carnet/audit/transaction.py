"""The transaction boundary every surface uses: commit on success. On a refusal, undo what the
request did but keep its trail: an access denial is recorded (decision 1), and the accesses the
request was allowed before it was refused (a conflict, a document hidden from the actor, bad
input) are recorded as attempts that failed. Then raise the public error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from carnet.audit import service
from carnet.errors import AccessDenied, CarnetError


@contextmanager
def audited_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except CarnetError as error:
        undo(session, error)
        session.commit()
        if isinstance(error, AccessDenied):
            raise error.public from None
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def undo(session: Session, error: CarnetError) -> None:
    """Undo the work of a request refused with ``error``, keeping its trail (the caller
    commits): roll back, then record the accesses it was allowed as failed attempts and, for a
    denial, the denial itself. What someone tried on a record stays on its trail, even when
    nothing came of it. A refusal that keeps its changes (a failed code attempt's counter)
    undoes nothing."""
    if error.keep_changes:
        return
    attempts = [failed(entry, error) for entry in service.recorded(session)]
    session.rollback()
    if isinstance(error, AccessDenied):
        attempts.append(dict(error.entry))
    if attempts:
        service.append_many(session, attempts)


def failed(entry: dict[str, Any], error: CarnetError) -> dict[str, Any]:
    """An allowed access's row, as an attempt that failed with ``error``: the error's code
    comes first in the detail (``failed=conflict document=…``)."""
    if entry.get("outcome", "allowed") != "allowed":
        return entry
    detail = f"failed={error.code}" + (f" {entry['detail']}" if entry.get("detail") else "")
    return {**entry, "outcome": "failed", "detail": detail}


def finish_request(session: Session, error: BaseException | None) -> None:
    """The same boundary as ``audited_transaction``, for a session opened elsewhere (the web
    dependency): commit, or undo keeping the trail, or roll back; then close. Re-raises."""
    try:
        if error is None:
            session.commit()
            return
        if isinstance(error, CarnetError):
            undo(session, error)
            session.commit()
            if isinstance(error, AccessDenied):
                raise error.public from None
        else:
            session.rollback()
        raise error
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
