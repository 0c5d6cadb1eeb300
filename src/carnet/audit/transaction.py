"""The transaction boundary every surface uses: commit on success. On a refusal, undo what the
request did but keep its trail: an access denial is recorded (decision 1), and the accesses the
request was allowed before it was refused (a conflict, a document hidden from the actor, bad
input) are recorded as attempts that failed. Then raise the public error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
    commits): roll back, then record the accesses ``access`` had allowed it as failed attempts
    (``audit.append_failed``) and, for a denial, the denial itself. What someone tried on a
    record stays on its trail, even when nothing came of it; the rows of what the request did
    (a document written, a name shown in a list) go with it. A refusal that keeps its changes
    (a failed code attempt's counter) undoes nothing."""
    if error.keep_changes:
        return
    attempts = service.accesses(session)
    session.rollback()
    if isinstance(error, AccessDenied):
        # What the refused actor tried on the refused record, the denial says; the rest failed.
        refused = (error.entry.get("patient_id"), error.entry.get("actor_ref"))
        attempts = [a for a in attempts if (a[0]["patient_id"], a[0].get("actor_ref")) != refused]
    service.append_failed(session, attempts, error.code)
    if isinstance(error, AccessDenied):
        service.append_many(session, [dict(error.entry)])


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
