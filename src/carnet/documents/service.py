"""Document use cases: provide (ITI-65), find (ITI-67), read and retrieve (ITI-68), and the
lifecycle (replace, delete, archive, masking, patient visibility). Every access goes through
``access`` and leaves an audit row; contents are encrypted with the patient's data key."""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    Uuid,
    and_,
    bindparam,
    delete,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from carnet import clock
from carnet.access import Action, Actor, ActorKind, Mode, RecordFacts
from carnet.access.documents import (
    AUTHOR,
    Visibility,
    document_visible,
    facts_of,
    known_to_writer,
    visibility,
    visibility_clauses,
)
from carnet.access.gate import (
    Pending,
    Subject,
    actor_fields,
    authorize,
    check,
    deny_unknown,
    load_facts,
    load_subject,
)
from carnet.access.representation import (
    HOLDER_SIDE,
    holder_side_clause,
    keep_from_representatives,
)
from carnet.audit import service as audit
from carnet.db import core, new_id, settings_of, utf8_bytes
from carnet.documents import envelope
from carnet.documents.fhir import DocumentInput, ProvideRequest, document_resource
from carnet.documents.models import DocumentEntry, PatientKey, Submission
from carnet.documents.storage import BlobMissing, BlobStore
from carnet.errors import AccessDenied, Conflict, Forbidden, Invalid, NotFound
from carnet.identity import parse_ins_identifier
from carnet.messaging.models import Attachment
from carnet.safety.engine import EarlierExam
from carnet.terminology import documents as vocab
from carnet.terminology.habilitations import Matrix, load_matrix

NOT_FOUND = "No such document."
DELETED = "entered-in-error"
log = logging.getLogger("carnet.documents")


# --- wiring: the blob store and the matrix come with the session ------------------------


def blobs_of(holder: Session | sessionmaker[Session]) -> BlobStore:
    """The content store that a session, or the factory of sessions (for work done before a
    transaction), carries in its ``info`` (``db.make_session_factory``)."""
    info = holder.info if isinstance(holder, Session) else holder.kw["info"]
    store: BlobStore = info["blobs"]
    return store


@cache
def _matrix(path: str | None) -> Matrix:
    return load_matrix(Path(path) if path else None)


def matrix_of(session: Session) -> Matrix:
    path = settings_of(session).habilitation_matrix
    return _matrix(str(path) if path else None)


def _masters(session: Session) -> list[bytes]:
    """The master key, then the keys being retired (``previous_master_keys``)."""
    settings = settings_of(session)
    return _parsed_masters(settings.master_key, tuple(settings.previous_master_key_list))


@cache
def _parsed_masters(current: str, previous: tuple[str, ...]) -> list[bytes]:
    """The configured master keys, parsed; ``ValueError`` names the setting of a malformed
    one, never repeating its value."""
    named = [("CARNET_MASTER_KEY", current)]
    named += [(f"CARNET_PREVIOUS_MASTER_KEYS, key {n}", v) for n, v in enumerate(previous, 1)]
    keys = []
    for setting, value in named:
        try:
            keys.append(envelope.master_key_from_setting(value))
        except ValueError as error:
            raise ValueError(f"{setting}: {error}") from None
    return keys


def check_master_keys(master_key: str, previous: list[str]) -> None:
    """At start: every configured master key is base64 of 32 bytes (``ValueError`` naming the
    setting otherwise), not at the first document's read."""
    _parsed_masters(master_key, tuple(previous))


def _unwrap(session: Session, wrapped: bytes, patient_id: uuid.UUID) -> tuple[bytes, int]:
    """The data key, and which master key opened it (0: the current one)."""
    for index, master in enumerate(_masters(session)):
        try:
            return envelope.unwrap_key(master, wrapped, patient_id), index
        except envelope.KeyUnavailable:
            continue
    raise envelope.KeyUnavailable("no configured master key unwraps this data key")


def patient_data_key(session: Session, patient_id: uuid.UUID, *, create: bool) -> bytes:
    """The patient's AES-256-GCM data key, unwrapped with the master key (created on first use
    when ``create``). Every encrypted blob of the patient (documents, message attachments) uses
    it, so that the retention purge shreds them all by deleting one row."""
    wrapped = core(session).execute(KEY_OF, {"p": patient_id}).scalar_one_or_none()
    if wrapped is None:
        if not create:
            raise envelope.KeyUnavailable("no data key for this patient")
        key = envelope.new_data_key()
        session.add(
            PatientKey(
                patient_id=patient_id,
                wrapped=envelope.wrap_key(_masters(session)[0], key, patient_id),
                created_at=clock.now(),
            )
        )
        session.flush()
        return key
    return _unwrap(session, wrapped, patient_id)[0]


@dataclass(frozen=True)
class Rewrapped:
    """What ``rewrap_keys`` did: keys now wrapped by the current master key, keys that were
    already, and keys no configured master key opens (listed by patient id for the operator)."""

    rewrapped: int
    current: int
    unreadable: list[uuid.UUID]


def rewrap_keys(session: Session, actor: Actor, *, batch: int = 500) -> Rewrapped:
    """Master-key rotation: wrap every patient's data key with the current master key, opening
    it with whichever configured key wrapped it. Contents are not touched (they are sealed by
    the data keys, which do not change). Committed a batch at a time, so a long run can stop and
    start again; one row on the system audit chain says what was done."""
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Only an operator can rewrap the data keys.")
    master = _masters(session)[0]
    rewrapped = current = 0
    unreadable: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    while True:
        query = select(PatientKey).order_by(PatientKey.patient_id).limit(batch)
        if after is not None:
            query = query.where(PatientKey.patient_id > after)
        keys = list(session.execute(query).scalars())
        if not keys:
            break
        for row in keys:
            try:
                key, opened_by = _unwrap(session, row.wrapped, row.patient_id)
            except envelope.KeyUnavailable:
                unreadable.append(row.patient_id)
                continue
            if opened_by == 0:
                current += 1
                continue
            row.wrapped = envelope.wrap_key(master, key, row.patient_id)
            rewrapped += 1
        after = keys[-1].patient_id
        session.commit()
    audit.append(
        session,
        patient_id=None,
        action="keys.rewrap",
        detail=f"rewrapped={rewrapped} current={current} unreadable={len(unreadable)}",
        **actor_fields(actor),
    )
    session.commit()
    return Rewrapped(rewrapped, current, unreadable)


KEY_OF = select(PatientKey.wrapped).where(PatientKey.patient_id == bindparam("p", type_=Uuid()))


# --- provide (ITI-65) ------------------------------------------------------------------


@dataclass(frozen=True)
class SealedContent:
    """A document's content, sealed under its own key and stored, before the transaction that
    decides the submission: the blob's key, and the content key to wrap in that transaction."""

    blob_key: str
    content_key: bytes = field(repr=False)


def content_blob_key() -> str:
    """Where a new content goes: two levels of folders from its random id (a few hundred
    entries a folder at 420 M documents a year); the Binary id is the last part."""
    name = uuid.uuid4().hex
    return f"c/{name[:2]}/{name[2:4]}/{name}"


def seal_contents(store: BlobStore, request: ProvideRequest) -> list[SealedContent]:
    """Seal and store a submission's contents, each under a fresh content key, outside any
    transaction (on SQLite, the single writer is not held during the ``fsync``s). Nothing of
    the patient is needed or read. If the submission then fails, ``discard`` removes them; a
    crash in between leaves contents no row refers to, which ``collect_orphans`` removes."""
    return seal(store, [doc.content for doc in request.documents])


def seal(store: BlobStore, contents: list[bytes]) -> list[SealedContent]:
    """``seal_contents`` for contents not yet in a submission (a portal upload's file)."""
    sealed: list[SealedContent] = []
    try:
        for content in contents:
            key, blob_key = envelope.new_data_key(), content_blob_key()
            store.put(blob_key, envelope.encrypt(key, content, blob_key.encode()))
            sealed.append(SealedContent(blob_key, key))
    except BaseException:
        discard(store, sealed)
        raise
    return sealed


def discard(store: BlobStore, sealed: list[SealedContent]) -> None:
    """Remove contents sealed for a submission that did not go through."""
    for content in sealed:
        store.delete(content.blob_key)


def provide(
    session: Session,
    actor: Actor,
    request: ProvideRequest,
    *,
    sealed: list[SealedContent] | None = None,
) -> list[DocumentEntry]:
    """Store a checked submission: all of it or nothing. ``sealed``: its contents, stored
    already by ``seal_contents`` (the caller discards them if this fails); otherwise they are
    sealed and stored here, and removed here on failure."""
    return _provide(session, actor, request, sealed)[0]


def _provide(
    session: Session,
    actor: Actor,
    request: ProvideRequest,
    sealed: list[SealedContent] | None = None,
) -> tuple[list[DocumentEntry], Subject]:
    ins = parse_ins_identifier(request.patient_identifier)
    subject = load_subject(session, actor, ins=(ins.matricule, ins.oid))
    patient_id = subject.patient_id
    if patient_id is None:
        raise deny_unknown(actor, action=Action.WRITE, resource_type="DocumentReference")
    submission_id = new_id()
    access = check(
        session,
        actor,
        patient_id,
        Action.WRITE,
        resource_type="DocumentReference",
        audit_action="document.submit",
        # the submission named: its row goes with its documents where they are kept from the
        # reader of the history (``trail_ties``)
        detail=f"documents={len(request.documents)} submission={submission_id}",
        facts=subject.facts,
    )
    shown = [d for d in request.documents if not d.invisible_representatives]
    if shown:  # a minor's secret care: only what her representatives do not see
        keep_from_representatives(
            session,
            actor,
            patient_id,
            hidden_from_representatives=False,
            field=f"{shown[0].where}.securityLabel",
        )
    _check_authors(actor, request.documents)
    _check_duplicates(session, patient_id, request.documents)
    replaced = {
        doc.where: _replaced(session, actor, subject.facts, access.decision.mode, patient_id, doc)
        for doc in request.documents
        if doc.replaces
    }
    key = patient_data_key(session, patient_id, create=True)
    now = clock.now()
    submission = {
        "id": submission_id,
        "patient_id": patient_id,
        "unique_id": request.submission_unique_id,
        "source_id": request.source_id,
        "submitted_at": now,
        "submitted_by": actor.ref,
        "client_id": actor.client_id,
        "entry_count": len(request.documents),
    }
    store = blobs_of(session)
    ours = sealed is None  # sealed here: removed here if the submission fails
    writes: list[dict[str, Any]] = []  # one audit row per document, beside the submission's
    try:
        if sealed is None:
            sealed = seal_contents(store, request)
        entries = []
        for doc, content in zip(request.documents, sealed, strict=True):
            previous = replaced.get(doc.where)
            if previous is not None:
                _new_version(session, previous, actor, status="superseded")
            entries.append(
                _new_entry(
                    patient_id,
                    submission_id,
                    doc,
                    content.blob_key,
                    actor,
                    now,
                    replaces_id=previous.id if previous is not None else None,
                    content_key=envelope.wrap_content_key(
                        key, content.content_key, content.blob_key
                    ),
                )
            )
            writes.append(
                {
                    **access.entry,
                    "action": "write",
                    "resource_id": str(entries[-1].id),
                    "detail": f"type={doc.type_code}",
                }
            )
        # Plain inserts, not the unit of work: every submission runs them, and the entries
        # returned are not attached to the session (the callers only read them). ``core``
        # flushes a replaced version first, so that only one version is current.
        connection = core(session)
        connection.execute(INSERT_SUBMISSION, submission)
        rows = [_columns(entry) for entry in entries]
        connection.execute(INSERT_ENTRY, rows if len(rows) > 1 else rows[0])
        access.record(session, also=writes)  # written at the commit (audit, decision 7)
    except BaseException:
        if ours and sealed is not None:  # nothing half-written: no content without its rows
            discard(store, sealed)
        raise
    return entries, subject


EXAM_CATEGORIES = ("biologie", "imagerie")  # results of exams (not reports of visits)


def provide_checked(
    session: Session,
    actor: Actor,
    request: ProvideRequest,
    *,
    sealed: list[SealedContent] | None = None,
) -> tuple[list[DocumentEntry], dict[uuid.UUID, list[EarlierExam]]]:
    """``provide``, and for exam results the earlier same exams within the configured window
    ("the same exam was done on …, by …") — found by the gated search, so only what this
    actor may see. Feeding needs no consent: a writer who may not read the record is told only
    of the exams they submitted themselves."""
    entries, subject = _provide(session, actor, request, sealed)
    window = timedelta(days=settings_of(session).duplicate_exam_window_days)
    return entries, _earlier_exams(session, actor, entries, subject, window)


def _earlier_exams(
    session: Session,
    actor: Actor,
    entries: list[DocumentEntry],
    subject: Subject,
    window: timedelta,
) -> dict[uuid.UUID, list[EarlierExam]]:
    exams = [entry for entry in entries if entry.category in EXAM_CATEGORIES]
    if not exams or subject.patient_id is None:
        return {}
    search: Pending | None
    try:
        found = _search_conditions(session, actor, subject.patient_id, DocumentQuery(), subject)
        statement, params, search = _same_exam_search(found.shape), found.params, found.access
    except AccessDenied:  # decided before anything was written; the submission stands
        statement, params, search = OWN_SAME_EXAM, {AUTHOR: actor.ref}, None
    notes: dict[uuid.UUID, list[EarlierExam]] = {}
    for entry in exams:
        rows = (
            core(session)
            .execute(
                statement,
                {
                    **params,
                    "patient": entry.patient_id,
                    "system": entry.type_system,
                    "code": entry.type_code,
                    "since": entry.created - window,
                    "until": entry.created,
                },
            )
            .all()
        )
        earlier = [row for row in rows if row.id != entry.id][:3]
        if earlier:
            notes[entry.id] = [
                EarlierExam(r.created, r.author_name or r.author_ref) for r in earlier
            ]
    if search is not None:
        search.record(session)  # one search of the record, whatever the number of exams
    return notes


def _same_exam_where() -> list[ColumnElement[bool]]:
    d = DocumentEntry
    return [
        d.patient_id == bindparam("patient", type_=Uuid()),
        d.type_system == bindparam("system"),
        d.type_code == bindparam("code"),
        d.current.is_(True),
        d.status == "current",
        d.created >= bindparam("since", type_=d.created.type),
        d.created <= bindparam("until", type_=d.created.type),
    ]


def _same_exam_select(*conditions: ColumnElement[bool]) -> Any:
    d = DocumentEntry
    return (
        select(d.id, d.created, d.author_name, d.author_ref)
        .where(*_same_exam_where(), *conditions)
        .order_by(d.created.desc(), d.id.desc())
        .limit(4)  # three to show, and the submitted document itself
    )


@functools.lru_cache(maxsize=512)
def _same_exam_search(shape: Visibility) -> Any:
    """The same exam within the window, among what this shape sees: built once per shape."""
    return _same_exam_select(*visibility_clauses(shape))


# A writer who may not read the record is told only of the exams they submitted themselves.
OWN_SAME_EXAM = _same_exam_select(DocumentEntry.author_ref == bindparam(AUTHOR))


def _check_authors(actor: Actor, documents: list[DocumentInput]) -> None:
    for doc in documents:
        if actor.kind in (ActorKind.PATIENT, ActorKind.APP):
            if doc.author_kind != "patient":
                raise Invalid(
                    "Documents added by the patient are authored by the patient.",
                    field=f"{doc.where}.author",
                )
            if doc.invisible_patient:
                # Otherwise she could not see, hide or delete what she just added, and it
                # would count as "waiting for your doctor".
                raise Invalid(
                    "A document added by the patient cannot be invisible to the patient "
                    "(INVISIBLE_PATIENT is the professional's choice).",
                    field=f"{doc.where}.securityLabel",
                )
        elif doc.author_kind == "patient":
            raise Invalid(
                "A professional cannot add a document in the patient's name.",
                field=f"{doc.where}.author",
            )


def _check_duplicates(
    session: Session, patient_id: uuid.UUID, documents: list[DocumentInput]
) -> None:
    ids = [doc.unique_id for doc in documents]
    if len(set(ids)) != len(ids):
        raise Invalid(
            "Two documents of the submission share a masterIdentifier.", field="Bundle.entry"
        )
    taken = core(session).execute(TAKEN, {"p": patient_id, "ids": ids}).scalar_one_or_none()
    if taken is not None:
        where = next(d.where for d in documents if d.unique_id == taken)
        raise Conflict(
            "A document with this masterIdentifier (uniqueId) already exists; "
            "replace it with relatesTo instead.",
            field=f"{where}.masterIdentifier",
        )


SUBMISSIONS: Table = Submission.__table__  # type: ignore[assignment]
ENTRIES: Table = DocumentEntry.__table__  # type: ignore[assignment]
INSERT_SUBMISSION = SUBMISSIONS.insert()
INSERT_ENTRY = ENTRIES.insert()
ENTRY_COLUMNS = tuple(c.key for c in DocumentEntry.__table__.columns)


def _columns(entry: DocumentEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ENTRY_COLUMNS}


TAKEN = (  # built once: every submission asks
    select(DocumentEntry.unique_id)
    .where(
        DocumentEntry.patient_id == bindparam("p", type_=Uuid()),
        DocumentEntry.unique_id.in_(bindparam("ids", expanding=True)),
    )
    .limit(1)
)


def _replaced(
    session: Session,
    actor: Actor,
    facts: RecordFacts,
    mode: Mode,
    patient_id: uuid.UUID,
    doc: DocumentInput,
) -> DocumentEntry:
    previous = session.get(DocumentEntry, doc.replaces)
    if (
        previous is None
        or previous.patient_id != patient_id
        or not previous.current
        or previous.status != "current"
        or not _sees(session, actor, facts, mode, previous, writing=True)
    ):
        raise Invalid(
            "The replaced document does not exist for this patient, or is no longer current.",
            field=f"{doc.where}.relatesTo",
        )
    keep_from_representatives(  # replacing one they see would take it from them unseen
        session,
        actor,
        patient_id,
        hidden_from_representatives=previous.invisible_representatives,
        field=f"{doc.where}.relatesTo",
    )
    return previous


def _new_entry(
    patient_id: uuid.UUID,
    submission_id: uuid.UUID,
    doc: DocumentInput,
    blob_key: str,
    actor: Actor,
    now: datetime,
    replaces_id: uuid.UUID | None = None,
    content_key: bytes | None = None,
) -> DocumentEntry:
    entry = DocumentEntry(
        id=new_id(),
        logical_id=new_id(),
        version=1,
        current=True,
        patient_id=patient_id,
        submission_id=submission_id,
        status="current",
        archived=False,
        unique_id=doc.unique_id,
        type_system=doc.type_system,
        type_code=doc.type_code,
        class_code=doc.class_code,
        category=doc.category,
        format_code=doc.format_code,
        facility_type=doc.facility_type,
        practice_setting=doc.practice_setting,
        masked_ps=doc.masked_ps,
        invisible_patient=doc.invisible_patient,
        invisible_representatives=doc.invisible_representatives,
        patient_authored=doc.author_kind == "patient" or doc.class_code == "90",
        author_kind=doc.author_kind,
        author_ref=f"patient:{patient_id}" if doc.author_kind == "patient" else doc.author_ref,
        author_name=doc.author_name
        or (actor.display_name if doc.author_ref == actor.ref else None),
        author_profession=doc.author_profession
        or (actor.profession if doc.author_ref == actor.ref else None),
        created=doc.created,
        service_start=doc.service_start,
        service_end=doc.service_end,
        title=doc.title,
        content_type=doc.content_type,
        size=len(doc.content),
        sha1=doc.sha1,
        sha256=doc.sha256,
        blob_key=blob_key,
        blob_id=blob_id_of(blob_key),
        replaces_id=replaces_id,
        content_key=content_key,
        recorded_at=now,
        recorded_by=actor.ref,
        resource="",
    )
    _render(entry, doc.type_display, doc.description)
    return entry


def _render(entry: DocumentEntry, type_display: str = "", description: str | None = None) -> None:
    doc_type = vocab.document_type(entry.type_system, entry.type_code)
    klass = vocab.class_code(entry.class_code)
    entry.resource = document_resource(
        entry,
        type_display=type_display or (doc_type.display if doc_type else ""),
        class_display=klass.display if klass else "",
        description=description,
    )


def _new_version(
    session: Session, previous: DocumentEntry, actor: Actor, **changes: Any
) -> DocumentEntry:
    """Each change is a new metadata version (new id, same logical id), the old one kept."""
    columns = _columns(previous)
    columns.update(
        id=uuid.uuid4(),
        version=previous.version + 1,
        current=True,
        recorded_at=clock.now(),
        recorded_by=actor.ref,
        **changes,
    )
    previous.current = False
    session.flush()  # the old version stops being current before the new one is
    version = DocumentEntry(**columns)
    _render(version)
    session.add(version)
    return version


# --- find, read, retrieve (ITI-67, ITI-68) --------------------------------------------


@dataclass
class DocumentQuery:
    types: list[tuple[str | None, str]] = field(default_factory=list)  # (system, code)
    categories: list[str] = field(default_factory=list)  # class codes
    statuses: list[str] = field(default_factory=lambda: ["current"])
    date: list[tuple[str, datetime]] = field(default_factory=list)  # (prefix, moment)
    period: list[tuple[str, datetime]] = field(default_factory=list)
    last_updated: list[tuple[str, datetime]] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)  # PS_IdNat
    include_archived: bool = True
    count: int = 50
    offset: int = 0

    def plain(self) -> bool:
        """No filter but the defaults: every current document (the common search)."""
        return (
            not (self.types or self.categories or self.date or self.period)
            and not (self.last_updated or self.authors)
            and self.statuses == ["current"]
            and self.include_archived
        )


@dataclass
class SearchResult:
    resources: list[bytes]  # the stored DocumentReference JSON, as UTF-8 (see ``RESOURCE``)
    has_more: bool


RESOURCE = utf8_bytes(DocumentEntry.resource)  # a search's target: what the response sends


PREFIXES = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"}


def _compare(column: Any, prefix: str, moment: datetime) -> ColumnElement[bool]:
    comparisons: dict[str, ColumnElement[bool]] = {
        "eq": column == moment,
        "ne": column != moment,
        "gt": column > moment,
        "sa": column > moment,
        "lt": column < moment,
        "eb": column < moment,
        "ge": column >= moment,
        "le": column <= moment,
    }
    return comparisons[prefix]


def _open(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    action: Action,
    resource_type: str,
    audit_action: str,
    detail: str | None = None,
) -> tuple[RecordFacts, Mode]:
    facts = load_facts(session, actor, patient_id)
    decision = authorize(
        session,
        actor,
        patient_id,
        action,
        resource_type=resource_type,
        audit_action=audit_action,
        detail=detail,
        facts=facts,
    )
    return facts, decision.mode


def search(
    session: Session,
    actor: Actor,
    patient: uuid.UUID | Any,
    query: DocumentQuery,
) -> SearchResult:
    """ITI-67: the documents of a patient (by id, or by a parsed INS) this actor may see,
    newest first. The patient, the record's facts and the access decision cost one query; the
    audit row is recorded after the search and written at the commit."""
    found = _search_conditions(session, actor, patient, query)
    statement, params = found.statement(RESOURCE, query)
    rows = core(session).execute(statement, params).scalars().all()
    found.access.record(session)
    return SearchResult(resources=list(rows[: query.count]), has_more=len(rows) > query.count)


def list_documents(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    query: DocumentQuery,
    *,
    subject: Subject | None = None,
) -> list[DocumentEntry]:
    """The same search as ``search``, as rows (for the portal's lists), newest first.
    ``subject``: the patient and the facts of their record, when this transaction loaded them
    already (a submission's duplicate-exam check)."""
    found = _search_conditions(session, actor, patient_id, query, subject)
    statement, params = found.statement(DocumentEntry, query)
    rows = list(session.execute(statement, params).scalars())
    found.access.record(session)
    return rows


PAGE = 100  # documents a portal page lists, the newest first


def list_documents_page(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    page: int,
    *,
    subject: Subject | None = None,
) -> tuple[list[DocumentEntry], bool]:
    """Page ``page`` (from 1) of ``list_documents`` for the portal's lists, ``PAGE`` at a
    time, and whether older documents follow."""
    found = list_documents(
        session,
        actor,
        patient_id,
        DocumentQuery(count=PAGE + 1, offset=(page - 1) * PAGE),
        subject=subject,
    )
    return found[:PAGE], len(found) > PAGE


def _search_conditions(
    session: Session,
    actor: Actor,
    patient: uuid.UUID | Any,
    query: DocumentQuery,
    subject: Subject | None = None,
) -> Found:
    if subject is not None and subject.patient_id is not None and subject.patient_id == patient:
        pass  # loaded in this transaction already
    elif isinstance(patient, uuid.UUID):
        subject = load_subject(session, actor, patient_id=patient)
    else:
        subject = load_subject(session, actor, ins=(patient.matricule, patient.oid))
        if subject.patient_id is None:
            raise deny_unknown(actor, action=Action.SEARCH, resource_type="DocumentReference")
    patient_id = subject.patient_id if subject.patient_id is not None else patient
    access = check(
        session,
        actor,
        patient_id,
        Action.SEARCH,
        resource_type="DocumentReference",
        audit_action="search",
        facts=subject.facts,
        first_access_notified=subject.first_access_notified,
    )
    shape = visibility(
        actor,
        subject.facts,
        access.decision.mode,
        matrix_of(session),
        reveal_masked_in_emergency=settings_of(session).emergency_reveals_masked,
    )
    found = Found(access, shape, patient_id, {AUTHOR: actor.ref})
    if query.plain():
        return found  # the statement is built once per shape (``_plain_search``)
    d = DocumentEntry
    conditions: list[ColumnElement[bool]] = []
    if query.statuses:
        conditions.append(d.status.in_(query.statuses))
    if not query.include_archived:
        conditions.append(d.archived.is_(False))
    if query.types:
        conditions.append(
            _any(
                [
                    (d.type_code == code)
                    if system is None
                    else ((d.type_system == system) & (d.type_code == code))
                    for system, code in query.types
                ]
            )
        )
    if query.categories:
        conditions.append(d.class_code.in_(query.categories))
    for prefix, moment in query.date:
        conditions.append(_compare(d.created, prefix, moment))
    for prefix, moment in query.period:
        column = d.service_end if prefix in ("gt", "ge", "sa") else d.service_start
        conditions.append(
            _compare(func.coalesce(column, d.service_start, d.created), prefix, moment)
        )
    for prefix, moment in query.last_updated:
        conditions.append(_compare(d.recorded_at, prefix, moment))
    if query.authors:
        conditions.append(d.author_ref.in_(query.authors))
    found.filters = conditions
    return found


@dataclass
class Found:
    """A search decided and audited-to-be: the access, what the actor sees, and the filters
    of a filtered query (None: a plain one, served by a statement built once)."""

    access: Pending
    shape: Visibility
    patient_id: uuid.UUID
    params: dict[str, Any]
    filters: list[ColumnElement[bool]] | None = None

    def statement(self, target: Any, query: DocumentQuery) -> tuple[Any, dict[str, Any]]:
        """The page's statement and its values; ``target``: rows, or the resources with one
        more than the page (to tell whether a next page exists)."""
        rows = target is DocumentEntry
        if self.filters is None:
            statement = _plain_search(self.shape, rows)
        else:
            statement = _search(self.shape, target, self.filters)
        return statement, {
            **self.params,
            "patient": self.patient_id,
            "skip": query.offset,
            "take": query.count + (0 if rows else 1),
        }


def _search(shape: Visibility, target: Any, filters: Iterable[ColumnElement[bool]]) -> Any:
    """The current documents of a patient (bound: ``patient``) that this shape sees and that
    match ``filters``, newest first, paged (``skip``, ``take``)."""
    d = DocumentEntry
    return (
        select(target)
        .where(
            d.patient_id == bindparam("patient", type_=Uuid()),
            d.current.is_(True),
            *visibility_clauses(shape),
            *filters,
        )
        .order_by(d.created.desc(), d.id.desc())
        .offset(bindparam("skip"))
        .limit(bindparam("take"))
    )


@functools.lru_cache(maxsize=512)
def _plain_search(shape: Visibility, rows: bool) -> Any:
    """The common search (no filter but the current status), built once per shape, so that a
    request only binds the values."""
    d = DocumentEntry
    return _search(shape, d if rows else RESOURCE, (d.status == "current",))


def _any(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    from sqlalchemy import or_

    return or_(*conditions)


def _visible_entry(
    session: Session, actor: Actor, entry: DocumentEntry | None, action: Action, audit_action: str
) -> DocumentEntry:
    return _visible(session, actor, entry, action, audit_action)[0]


def _visible(
    session: Session, actor: Actor, entry: DocumentEntry | None, action: Action, audit_action: str
) -> tuple[DocumentEntry, RecordFacts]:
    """The entry, once the access to its record is decided and audited and the document is
    visible to this actor (else "not found"), with the record's facts for this actor."""
    if entry is None:
        raise NotFound(NOT_FOUND)
    try:
        facts, mode = _open(
            session,
            actor,
            entry.patient_id,
            action,
            "DocumentReference",
            audit_action,
            detail=f"document={entry.logical_id}",
        )
    except AccessDenied as denied:  # traced as refused; but reached by the document's id, its
        raise AccessDenied(NotFound(NOT_FOUND), denied.entry) from None  # existence is not told
    if not _sees(session, actor, facts, mode, entry, writing=action is Action.WRITE):
        raise NotFound(NOT_FOUND)  # audited as an access to the record; the document stays hidden
    return entry, facts


def _sees(
    session: Session,
    actor: Actor,
    facts: RecordFacts,
    mode: Mode,
    entry: DocumentEntry,
    *,
    writing: bool = False,
) -> bool:
    """``document_visible`` under the operator's matrix and policy; ``writing``: and
    ``known_to_writer``."""
    doc = facts_of(entry)
    seen = document_visible(
        actor,
        facts,
        mode,
        doc,
        matrix_of(session),
        reveal_masked_in_emergency=settings_of(session).emergency_reveals_masked,
    )
    return seen and (not writing or known_to_writer(actor, facts, doc))


def blob_id_of(blob_key: str) -> str:
    """The Binary id that ITI-68 serves a content under: the blob key without its folder."""
    return blob_key.rsplit("/", 1)[-1]


def read(session: Session, actor: Actor, entry_id: uuid.UUID) -> DocumentEntry:
    """A DocumentReference by id: any version of a document, seen as the document stands now
    (an earlier version of a document hidden, made invisible or deleted since is "not found",
    as the document is)."""
    entry = session.get(DocumentEntry, entry_id)
    if entry is None:
        raise NotFound(NOT_FOUND)
    _visible(session, actor, _standing(session, entry), Action.READ, "read")
    return entry


def _standing(session: Session, entry: DocumentEntry | None) -> DocumentEntry | None:
    """The current version of ``entry``'s document (``entry`` itself when it is current):
    its flags and status decide who may see any of its versions."""
    if entry is None or entry.current:
        return entry
    return session.execute(
        select(DocumentEntry).where(
            DocumentEntry.logical_id == entry.logical_id, DocumentEntry.current.is_(True)
        )
    ).scalar_one_or_none()


def retrieve(session: Session, actor: Actor, blob_id: str) -> tuple[DocumentEntry, bytes]:
    """ITI-68: the decrypted content of a visible document."""
    entry = (
        session.execute(
            select(DocumentEntry)
            .where(DocumentEntry.blob_id == blob_id, DocumentEntry.current.is_(True))
            .limit(1)
        ).scalar_one_or_none()
        if blob_id.isalnum()
        else None
    )
    entry = _visible_entry(session, actor, entry, Action.READ, "read")
    return entry, _decrypt(session, entry)


def content_of(session: Session, actor: Actor, entry_id: uuid.UUID) -> tuple[DocumentEntry, bytes]:
    """The decrypted content of the current version of a document, by its id (the portal's
    download link); the same checks and trail as ITI-68."""
    entry = session.get(DocumentEntry, entry_id)
    if entry is None or not entry.current:
        raise NotFound(NOT_FOUND)
    entry = _visible_entry(session, actor, entry, Action.READ, "read")
    return entry, _decrypt(session, entry)


_EXTENSIONS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/xml": "xml",
    "application/xml": "xml",
    "application/hl7-v3+xml": "xml",
    "image/jpeg": "jpg",
    "image/png": "png",
}


def download_name(entry: DocumentEntry) -> str:
    """A safe file name for a download: no title in it (it may be health data, and it would
    need quoting in the header)."""
    extension = _EXTENSIONS.get(entry.content_type.split(";")[0].strip(), "bin")
    return f"document-{entry.logical_id}.{extension}"


def _decrypt(session: Session, entry: DocumentEntry) -> bytes:
    key = patient_data_key(session, entry.patient_id, create=False)
    return _open_content(session, key, entry.blob_key, entry.content_key)


def _open_content(
    session: Session, data_key: bytes, blob_key: str, content_key: bytes | None
) -> bytes:
    """A document's content, read from the store and decrypted: under its own content key,
    wrapped by the patient's data key; or, for rows from before 0014, under the data key."""
    sealed = blobs_of(session).get(blob_key)
    key = data_key
    if content_key is not None:
        key = envelope.unwrap_content_key(data_key, content_key, blob_key)
    return envelope.decrypt(key, sealed, blob_key.encode())


def trail_ties(
    session: Session, patient_id: uuid.UUID, *, hidden_from_representatives: bool
) -> audit.Ties | None:
    """What ties rows of the patient's access history (read by the holder's side) to the
    documents kept from its reader: those a professional keeps invisible to the patient for
    now (until the document is made visible: decision 9), and, for a minor's legal
    representative, those hidden from the representatives — their submission, the writing of
    each version, every access to them. None when nothing is kept."""
    # a document deleted or replaced since is no longer waiting: what concerns it shows
    kept: ColumnElement[bool] = and_(
        DocumentEntry.invisible_patient.is_(True), DocumentEntry.status == "current"
    )
    if hidden_from_representatives:
        kept = or_(kept, DocumentEntry.invisible_representatives.is_(True))
    hidden = (
        select(DocumentEntry.logical_id)
        .where(DocumentEntry.patient_id == patient_id, DocumentEntry.current.is_(True), kept)
        .scalar_subquery()
    )
    versions = session.execute(
        select(DocumentEntry.id, DocumentEntry.logical_id, DocumentEntry.submission_id).where(
            DocumentEntry.patient_id == patient_id, DocumentEntry.logical_id.in_(hidden)
        )
    ).all()
    if not versions:
        return None
    return audit.Ties(
        resource_ids=frozenset(str(v.id) for v in versions),
        marks=frozenset(
            {f"document={v.logical_id}" for v in versions}
            | {f"submission={v.submission_id}" for v in versions}
        ),
    )


def waiting_for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> int:
    """How many documents a professional keeps invisible to the patient for now (shown to the
    patient only as a count: "a document is waiting for your doctor"). A minor's legal
    representative is not told of those hidden from the representatives."""
    facts, _mode = _open(session, actor, patient_id, Action.READ, "DocumentReference", "search")
    return int(
        session.execute(
            select(func.count())
            .select_from(DocumentEntry)
            .where(
                DocumentEntry.patient_id == patient_id,
                DocumentEntry.current.is_(True),
                DocumentEntry.status == "current",
                DocumentEntry.invisible_patient.is_(True),
                holder_side_clause(facts, DocumentEntry.invisible_representatives),
            )
        ).scalar_one()
    )


# --- lifecycle --------------------------------------------------------------------------


def _change(
    session: Session,
    actor: Actor,
    entry_id: uuid.UUID,
    verb: str,
    allowed: Callable[[DocumentEntry, RecordFacts], bool],
    conflict: Callable[[DocumentEntry], str | None] = lambda _entry: None,
    **changes: Any,
) -> DocumentEntry:
    """A lifecycle change: first whether the actor may see the document at all (a document
    they may not see answers "not found", whatever they asked), then whether they may make
    this change (``allowed``: the entry and the record's facts for the actor), then whether it
    fits the document's state (``conflict``)."""
    asked = session.get(DocumentEntry, entry_id)
    entry, facts = _visible(  # as the document stands now, whichever version was asked for
        session,
        actor,
        _standing(session, asked),
        Action.WRITE if actor.kind is ActorKind.PROFESSIONAL else Action.MANAGE,
        f"document.{verb}",
    )
    if entry is not asked:
        raise Conflict(
            "This is not the current version of the document; use the current id.", field="id"
        )
    if not allowed(entry, facts):
        raise Forbidden(_FORBIDDEN[verb])
    keep_from_representatives(  # a secret connection changes only what they do not see
        session,
        actor,
        entry.patient_id,
        hidden_from_representatives=entry.invisible_representatives,
        field="DocumentReference.securityLabel",
    )
    refusal = conflict(entry)
    if refusal is not None:
        raise Conflict(refusal)
    return _new_version(session, entry, actor, **changes)


_FORBIDDEN = {
    "delete": "Only the document's author can delete it.",
    "archive": "Only the document's author can archive it.",
    "unarchive": "Only the document's author can unarchive it.",
    "hide": "Only the patient hides a document from professionals.",
    "unhide": "Only the patient hides a document from professionals.",
    "patient_visibility": "Only the author or a treating doctor changes the patient's visibility.",
}


def delete_document(session: Session, actor: Actor, entry_id: uuid.UUID) -> DocumentEntry:
    """Logical deletion, by the document's author only (domain.md §3.3)."""
    return _change(
        session,
        actor,
        entry_id,
        "delete",
        lambda entry, _facts: _is_author(actor, entry),
        status=DELETED,
    )


def set_archived(
    session: Session, actor: Actor, entry_id: uuid.UUID, archived: bool
) -> DocumentEntry:
    verb = "archive" if archived else "unarchive"
    return _change(
        session,
        actor,
        entry_id,
        verb,
        lambda entry, _facts: _is_author(actor, entry),
        archived=archived,
    )


def set_hidden_from_professionals(
    session: Session, actor: Actor, entry_id: uuid.UUID, hidden: bool
) -> DocumentEntry:
    """The patient hides (MASQUE_PS) or unhides a document."""

    def not_yet_visible(entry: DocumentEntry) -> str | None:
        if hidden and entry.invisible_patient:
            return "This document is not visible to the patient yet."
        return None

    return _change(
        session,
        actor,
        entry_id,
        "hide" if hidden else "unhide",
        lambda _entry, _facts: actor.kind in HOLDER_SIDE,
        not_yet_visible,
        masked_ps=hidden,
    )


def set_patient_visibility(
    session: Session, actor: Actor, entry_id: uuid.UUID, visible: bool
) -> DocumentEntry:
    """A professional makes a document visible to the patient, or invisible until an
    announcement consultation (TD3.3b): its author, or the patient's treating doctor."""

    def may(entry: DocumentEntry, facts: RecordFacts) -> bool:
        if actor.kind is not ActorKind.PROFESSIONAL:
            return False
        return _is_author(actor, entry) or facts.treating_doctor

    def masked(entry: DocumentEntry) -> str | None:
        if not visible and entry.masked_ps:
            return "A document hidden from professionals cannot also be invisible to the patient."
        return None

    return _change(
        session,
        actor,
        entry_id,
        "patient_visibility",
        may,
        masked,
        invisible_patient=not visible,
    )


def _is_author(actor: Actor, entry: DocumentEntry) -> bool:
    """The professional who wrote it; for the patient's own documents, the patient's side (the
    record access itself — holder or representative — was checked already)."""
    if actor.kind is ActorKind.PROFESSIONAL:
        return entry.author_ref == actor.ref
    return actor.kind in (ActorKind.PATIENT, ActorKind.APP) and entry.author_kind == "patient"


# --- operations: verify, shred --------------------------------------------------------


@dataclass(frozen=True)
class ContentProblem:
    entry_id: uuid.UUID
    problem: str
    kind: str = "document"  # or "attachment" (a message's)


VERIFY_BATCH = 1_000  # rows fetched at a time: memory does not grow with the documents


def verify_contents(session: Session) -> Iterator[ContentProblem]:
    """Every current document's content is there, decrypts, and matches its hashes; then every
    message attachment's. The rows stream in patient order, a batch at a time, and each
    patient's data key is unwrapped once in each of the two passes."""
    d = DocumentEntry
    rows = session.execute(
        select(d.id, d.patient_id, d.blob_key, d.content_key, d.sha256, d.sha1, d.size)
        .where(d.current.is_(True))
        .order_by(d.patient_id, d.id)
        .execution_options(yield_per=VERIFY_BATCH)
    )
    key_of = _data_keys(session)
    for row in rows:
        try:
            content = _open_content(session, key_of(row.patient_id), row.blob_key, row.content_key)
        except BlobMissing:
            yield ContentProblem(row.id, "content missing from the blob store")
            continue
        except (envelope.CorruptContent, envelope.KeyUnavailable):
            yield ContentProblem(row.id, "content cannot be decrypted")
            continue
        if (
            hashlib.sha256(content).hexdigest() != row.sha256
            or hashlib.sha1(content, usedforsecurity=False).hexdigest() != row.sha1
            or len(content) != row.size
        ):
            yield ContentProblem(row.id, "content does not match its hash or size")
    yield from _verify_attachments(session)


def _data_keys(session: Session) -> Callable[[uuid.UUID], bytes]:
    """``patient_data_key`` for rows read in patient order: the last patient's key (or why it
    is unavailable) is kept, so that each key is unwrapped once."""
    last: list[Any] = [None, None]  # patient id, key or the KeyUnavailable raised

    def key_of(patient_id: uuid.UUID) -> bytes:
        if last[0] != patient_id:
            try:
                last[1] = patient_data_key(session, patient_id, create=False)
            except envelope.KeyUnavailable as unavailable:
                last[1] = unavailable
            last[0] = patient_id
        if isinstance(last[1], envelope.KeyUnavailable):
            raise last[1]
        return bytes(last[1])

    return key_of


def _verify_attachments(session: Session) -> Iterator[ContentProblem]:
    """Message attachments share the patients' keys and the blob store: the same checks."""
    key_of = _data_keys(session)
    a = Attachment
    rows = session.execute(
        select(a.id, a.patient_id, a.blob_key, a.sha256, a.size)
        .order_by(a.patient_id, a.id)
        .execution_options(yield_per=VERIFY_BATCH)
    )
    for row in rows:
        try:
            content = _open_content(session, key_of(row.patient_id), row.blob_key, None)
        except BlobMissing:
            yield ContentProblem(row.id, "content missing from the blob store", "attachment")
            continue
        except (envelope.CorruptContent, envelope.KeyUnavailable):
            yield ContentProblem(row.id, "content cannot be decrypted", "attachment")
            continue
        if hashlib.sha256(content).hexdigest() != row.sha256 or len(content) != row.size:
            yield ContentProblem(row.id, "content does not match its hash or size", "attachment")


GC_BATCH = 500  # store keys checked against the rows at a time (two indexed lookups)


def collect_orphans(session: Session, *, older_than_seconds: float) -> int:
    """Delete contents no document or message attachment refers to. An upload killed between
    writing its content and committing its metadata leaves such a blob; it is never readable
    through the API. The store's keys are checked against the rows a batch at a time."""
    store = blobs_of(session)
    removed = 0
    # Streamed: a key is deleted once listed (the local store lists each folder before
    # yielding from it, object storage lists in pages), so memory does not grow with the store.
    keys = store.iter_keys()
    while batch := list(islice(keys, GC_BATCH)):
        known = set(
            session.execute(
                select(DocumentEntry.blob_key).where(DocumentEntry.blob_key.in_(batch))
            ).scalars()
        )
        known.update(
            session.execute(select(Attachment.blob_key).where(Attachment.blob_key.in_(batch)))
            .scalars()
            .all()
        )
        for key in batch:
            if key not in known and _older_than(store, key, older_than_seconds):
                store.delete(key)
                removed += 1
    sweep = getattr(store, "sweep_temp", None)
    if sweep is not None:
        removed += int(sweep(older_than_seconds))
    return removed


def _older_than(store: BlobStore, key: str, seconds: float) -> bool:
    """Whether the blob was written at least ``seconds`` ago (or is gone already): contents are
    stored before their submission's transaction (decision 6), so a younger one may belong to
    an upload about to commit — on object storage as on disk."""
    modified = store.modified(key)
    return modified is None or (clock.now() - modified).total_seconds() >= seconds


def shred_patient(session: Session, patient_id: uuid.UUID) -> int:
    """Crypto-shredding for the retention purge: destroy the data key, then the blobs; returns
    how many blobs go. The blobs go only once the key's deletion is committed: deleted at once,
    a purge that then failed to commit (or was rolled back) would leave the patient's documents
    in place without their contents. A crash between the commit and the deletion leaves
    orphans that ``collect_orphans`` removes."""
    session.execute(delete(PatientKey).where(PatientKey.patient_id == patient_id))
    store = blobs_of(session)
    prefix = f"{patient_id}/"  # message attachments and documents stored before 0014
    elsewhere = {  # contents sealed under their own key (0014 on): found through their rows
        key
        for key in session.execute(
            select(DocumentEntry.blob_key).where(DocumentEntry.patient_id == patient_id)
        ).scalars()
        if not key.startswith(prefix)
    }
    in_folder = sum(1 for _ in store.iter_keys(prefix))

    def destroy() -> None:
        store.delete_prefix(prefix)
        for key in elsewhere:
            store.delete(key)

    after_commit(session, destroy)
    return in_folder + len(elsewhere)


_AFTER_COMMIT = "carnet.documents.after_commit"


def after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run ``action`` once this session's transaction has committed; forget it on rollback
    (a refusal rolls back, then commits its trail: that commit is not the action's)."""
    pending: list[Callable[[], object]] | None = session.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = session.info[_AFTER_COMMIT] = []
        event.listen(session, "after_commit", _run_after_commit)
        event.listen(session, "after_rollback", _forget_after_commit)
    pending.append(action)


def _run_after_commit(session: Session) -> None:
    pending: list[Callable[[], object]] = session.info.get(_AFTER_COMMIT) or []
    actions, pending[:] = list(pending), []
    for action in actions:
        try:
            action()
        except Exception:  # committed already: what is left is an orphan for the collector
            log.warning("an action after a commit failed", exc_info=True)


def _forget_after_commit(session: Session) -> None:
    session.info.get(_AFTER_COMMIT, []).clear()


def content_hash_b64(content: bytes) -> str:
    return base64.b64encode(hashlib.sha1(content, usedforsecurity=False).digest()).decode()
