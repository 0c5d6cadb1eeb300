"""The transaction boundary every surface uses: commit on success; on an access denial, roll
back what the request did, record the denial, commit that, and raise the public error."""

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
    except AccessDenied as denied:
        session.rollback()
        record_denial(session, denied)
        session.commit()
        raise denied.public from None
    except CarnetError as error:
        if error.keep_changes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def record_denial(session: Session, denied: AccessDenied) -> None:
    entry: dict[str, Any] = dict(denied.entry)
    service.append(session, **entry)


def finish_request(session: Session, error: BaseException | None) -> None:
    """The same boundary as ``audited_transaction``, for a session opened elsewhere (the web
    dependency): commit, or record the denial, or roll back; then close. Re-raises."""
    try:
        if error is None:
            session.commit()
            return
        if isinstance(error, AccessDenied):
            session.rollback()
            record_denial(session, error)
            session.commit()
            raise error.public from None
        if isinstance(error, CarnetError) and error.keep_changes:
            session.commit()
        else:
            session.rollback()
        raise error
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
