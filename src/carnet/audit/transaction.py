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
    """A transaction around the block, with ``finish_request``'s boundary."""
    session = factory()
    try:
        yield session
    except BaseException as error:
        finish_request(session, error)  # re-raises (the public error of a denial)
    else:
        finish_request(session, None)


def undo(session: Session, error: CarnetError) -> None:
    """Undo the work of a request refused with ``error``, keeping its trail; the caller
    commits. Roll back, then record the accesses ``access`` had allowed it as failed attempts
    (``audit.append_failed``) and, for a denial, the denial itself: what someone tried on a
    record stays on its trail even when nothing came of it, while the rows of what the request
    did (a document written, a name shown in a list) go with it. A refusal that keeps its
    changes (a failed code attempt's counter) undoes nothing: it is committed here."""
    if error.keep_changes:
        session.commit()
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
    """The boundary for a session once its request is done (the web dependency's, and
    ``audited_transaction``'s): commit, or undo keeping the trail, or roll back; then close.
    Re-raises."""
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
