"""Secure messaging use cases: a professional starts a thread on a record they are authorized
on, the patient (or a minor's legal representative) and the participating professionals reply,
everyone lists and reads the threads they may see (reading marks as read), attachments are
checked and stored encrypted with the patient's key, and the other side gets a notice that
says who wrote, never what. Every call goes through ``access.messaging`` (which audits through
``access.gate``) and flushes; the caller commits."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from carnet import clock
from carnet.access import Action, Actor, ActorKind, RecordFacts, listing
from carnet.access.gate import deny_unknown
from carnet.access.messaging import (
    ThreadFacts,
    Verb,
    authorize_messaging,
    decide_messaging,
    listed_threads,
    thread_clauses,
)
from carnet.access.representation import keep_from_representatives, representatives_of
from carnet.accounts.models import Account
from carnet.audit import service as audit
from carnet.db import new_id, settings_of
from carnet.documents import envelope
from carnet.documents.service import blobs_of, patient_data_key
from carnet.errors import Invalid, NotFound
from carnet.messaging.fhir import (
    AttachmentFacts,
    CommunicationInput,
    MessageFacts,
    NewAttachment,
)
from carnet.messaging.models import Attachment, Message, MessageRead, Participant, Thread
from carnet.notifications.models import enqueue
from carnet.patients.models import Patient
from carnet.patients.service import find_by_identifier

NO_THREAD = "No such message thread."
MAX_SUBJECT = 200
MAX_BODY = 10_000
MAX_ATTACHMENTS = 5
MAX_FILENAME = 120
SIGNATURES = (  # magic bytes: what the content is, whatever the sender declared
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


@dataclass(frozen=True)
class ThreadSummary:
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    subject: str
    started_by_name: str
    started_at: datetime
    last_message_at: datetime
    unread: int
    hidden_from_representatives: bool


@dataclass(frozen=True)
class MessageView:
    message: MessageFacts
    mine: bool
    unread: bool  # before this reading


@dataclass(frozen=True)
class ThreadView:
    thread: ThreadSummary
    messages: list[MessageView]
    participants: list[str]  # the professionals' names
    can_reply: bool


@dataclass(frozen=True)
class HomeMessages:
    """For the patient's home: unread messages, and the threads with news since ``since``."""

    unread: int
    threads: list[ThreadSummary]


@dataclass(frozen=True)
class PatientChoice:
    id: uuid.UUID
    display_name: str
    birth_date: date


# --- writing -------------------------------------------------------------------------------


def start_thread(
    session: Session,
    actor: Actor,
    *,
    patient_id: uuid.UUID,
    subject: str,
    body: str,
    attachments: Sequence[NewAttachment] = (),
    hidden_from_representatives: bool = False,
) -> MessageFacts:
    """A professional authorized on the record writes first (as in Mon Espace Santé)."""
    subject = _checked_subject(subject)
    body = _checked_body(body)
    files = _checked_attachments(session, attachments)
    thread_id = new_id()  # the thread's id is its first message's id (FHIR partOf)
    authorize_messaging(  # the row names the thread: kept from whom the thread is hidden from
        session,
        actor,
        patient_id,
        Verb.START,
        resource_id=str(thread_id),
        detail=f"attachments={len(files)}",
    )
    keep_from_representatives(
        session,
        actor,
        patient_id,
        hidden_from_representatives=hidden_from_representatives,
        field="Communication.meta.security",
    )
    now = clock.now()
    thread = Thread(
        id=thread_id,
        patient_id=patient_id,
        subject=subject,
        started_by_ref=actor.ref,
        started_by_name=actor.display_name or actor.ref,
        started_at=now,
        last_message_at=now,
        hidden_from_representatives=hidden_from_representatives,
    )
    session.add(thread)
    session.flush()  # no relationship(): the thread row goes first
    session.add(
        Participant(
            thread_id=thread_id,
            patient_id=patient_id,
            ref=actor.ref,
            professional_id=actor.professional_id,
            display_name=actor.display_name or actor.ref,
            added_at=now,
        )
    )
    session.flush()
    message = _write(
        session, actor, thread, "professional", body, files, None, message_id=thread_id
    )
    _notify(session, thread, message)
    return _facts(session, thread, message)


def reply(
    session: Session,
    actor: Actor,
    *,
    thread_id: uuid.UUID,
    body: str,
    attachments: Sequence[NewAttachment] = (),
    in_response_to: uuid.UUID | None = None,
) -> MessageFacts:
    """The patient side, or a professional taking part, answers in a thread."""
    body = _checked_body(body)
    files = _checked_attachments(session, attachments)
    thread = _thread(session, thread_id)
    facts = authorize_messaging(
        session,
        actor,
        thread.patient_id,
        Verb.REPLY,
        thread=_thread_facts(session, thread),
        resource_id=str(thread.id),
        detail=f"attachments={len(files)}",
    )
    keep_from_representatives(
        session,
        actor,
        thread.patient_id,
        hidden_from_representatives=thread.hidden_from_representatives,
        field="Communication.inResponseTo",
    )
    last = session.execute(
        select(Message.id)
        .where(Message.thread_id == thread.id, Message.patient_id == thread.patient_id)
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    ).scalar_one()
    if in_response_to is not None and _in_thread(session, thread, in_response_to):
        last = in_response_to
    kind = _sender_kind(actor, facts)
    message = _write(session, actor, thread, kind, body, files, last)
    thread.last_message_at = message.sent_at
    session.flush()
    _notify(session, thread, message)
    return _facts(session, thread, message)


FHIR_FIELDS = {
    "subject": "Communication.topic",
    "body": "Communication.payload.contentString",
    "attachment": "Communication.payload.contentAttachment",
}


def post_communication(session: Session, actor: Actor, data: CommunicationInput) -> MessageFacts:
    """The FHIR ``POST /Communication``: a reply when it names a message of a thread
    (``inResponseTo`` or ``partOf``), otherwise a new thread. Errors name FHIR elements."""
    try:
        return _post_communication(session, actor, data)
    except Invalid as error:
        if error.field in FHIR_FIELDS:
            raise Invalid(error.message, field=FHIR_FIELDS[error.field]) from None
        raise


def _post_communication(session: Session, actor: Actor, data: CommunicationInput) -> MessageFacts:
    if data.in_response_to is not None:
        message = session.get(Message, data.in_response_to)
        if message is None or (data.patient_id and data.patient_id != message.patient_id):
            raise NotFound(NO_THREAD)
        return reply(
            session,
            actor,
            thread_id=message.thread_id,
            body=data.body,
            attachments=data.attachments,
            in_response_to=message.id,
        )
    if not data.subject:
        raise Invalid("A new thread needs a subject (topic.text).", field="Communication.topic")
    patient_id = data.patient_id or patient_by_ins(session, actor, data.patient_ins or "")
    return start_thread(
        session,
        actor,
        patient_id=patient_id,
        subject=data.subject,
        body=data.body,
        attachments=data.attachments,
        hidden_from_representatives=data.hidden_from_representatives,
    )


def patient_by_ins(
    session: Session, actor: Actor, ins: str, *, field: str = "Communication.subject"
) -> uuid.UUID:
    """The patient named by an INS token; an unknown one is an audited "not found"."""
    found = find_by_identifier(session, ins, field=field)
    if found is None:
        raise deny_unknown(actor, action=Action.WRITE, resource_type="Communication")
    return found.id


def _write(
    session: Session,
    actor: Actor,
    thread: Thread,
    kind: str,
    body: str,
    files: list[tuple[NewAttachment, str, str]],
    in_response_to: uuid.UUID | None,
    *,
    message_id: uuid.UUID | None = None,
) -> Message:
    message = Message(
        id=message_id or new_id(),
        thread_id=thread.id,
        patient_id=thread.patient_id,
        sender_kind=kind,
        sender_ref=reader_ref(actor),
        sender_name=_sender_name(session, actor),
        body=body,
        sent_at=clock.now(),
        in_response_to_id=in_response_to,
    )
    session.add(message)
    session.flush()
    if files:
        _store(session, message, files)
    # the sender has read what they wrote
    session.add(
        MessageRead(
            message_id=message.id,
            reader_ref=message.sender_ref,
            patient_id=thread.patient_id,
            read_at=message.sent_at,
        )
    )
    session.flush()
    return message


def _store(session: Session, message: Message, files: list[tuple[NewAttachment, str, str]]) -> None:
    key = patient_data_key(session, message.patient_id, create=True)
    store = blobs_of(session)
    written: list[str] = []
    try:
        for new, content_type, filename in files:
            # under the patient's prefix: the retention purge deletes it with the documents
            blob_key = f"{message.patient_id}/msg-{uuid.uuid4().hex}"
            store.put(blob_key, envelope.encrypt(key, new.content, blob_key.encode()))
            written.append(blob_key)
            session.add(
                Attachment(
                    message_id=message.id,
                    patient_id=message.patient_id,
                    filename=filename,
                    content_type=content_type,
                    size=len(new.content),
                    sha256=hashlib.sha256(new.content).hexdigest(),
                    blob_key=blob_key,
                )
            )
        session.flush()
    except Exception:
        for blob_key in written:
            store.delete(blob_key)
        raise


# --- checks --------------------------------------------------------------------------------


def _checked_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise Invalid("The subject is required.", field="subject")
    if len(subject) > MAX_SUBJECT:
        raise Invalid("The subject is too long (200 characters at most).", field="subject")
    return subject


def _checked_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise Invalid("The message is empty.", field="body")
    if len(body) > MAX_BODY:
        raise Invalid("The message is too long (10,000 characters at most).", field="body")
    return body


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the magic bytes; plain text is UTF-8 without control
    characters."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any((ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\x7f" for ch in text):
        return None  # control characters: a binary file that happens to decode (zip, exe…)
    return "text/plain", ".txt"


def clean_filename(name: str, extension: str) -> str:
    """A name safe to show and to send back in Content-Disposition."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    name = name.replace('"', "'").strip(" .")[:MAX_FILENAME]
    return name or f"piece-jointe{extension}"


def _checked_attachments(
    session: Session, attachments: Sequence[NewAttachment]
) -> list[tuple[NewAttachment, str, str]]:
    attachments = [a for a in attachments if a.content or a.filename]
    if len(attachments) > MAX_ATTACHMENTS:
        raise Invalid("At most 5 attachments per message.", field="attachment")
    limit: int = settings_of(session).document_max_bytes
    checked = []
    for new in attachments:
        if not new.content:
            raise Invalid("The attached file is empty.", field="attachment")
        if len(new.content) > limit:
            raise Invalid("The attached file is larger than allowed.", field="attachment")
        kind = sniff(new.content)
        if kind is None:
            raise Invalid(
                "Attachments must be PDF, JPEG, PNG or plain text files.", field="attachment"
            )
        checked.append((new, kind[0], clean_filename(new.filename, kind[1])))
    return checked


# --- reading -------------------------------------------------------------------------------


def list_threads(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[ThreadSummary]:
    """The threads of one record this actor may see, the most recent first."""
    facts = authorize_messaging(session, actor, patient_id, Verb.LIST)
    return _summaries(session, actor, [(patient_id, facts)])


THREADS_PAGE = 50  # a professional's conversations shown at a time, the latest first
CHOICES = 100  # patients offered to write to: the latest authorizations (others by INS)


@dataclass(frozen=True)
class Inbox:
    """A professional's messaging page: a page of their conversations, and the patients they
    may write to."""

    threads: list[ThreadSummary]
    older: Position | None  # where the page ended, when older conversations follow
    patients: list[PatientChoice]
    more_patients: bool  # older authorizations left out of the list (reached by INS)


@dataclass(frozen=True)
class Position:
    """Where a page of conversations ended: the last one's time and id. The link to the next
    page carries them (not a thread to look up): a conversation written to since, or gone,
    does not move the pages."""

    at: datetime
    id: uuid.UUID

    FORMAT = "%Y%m%dT%H%M%S.%fZ"

    def token(self) -> str:
        return f"{self.at.astimezone(UTC).strftime(self.FORMAT)}_{self.id.hex}"

    @classmethod
    def parse(cls, token: str) -> Position | None:
        """The position a link carries; None for anything else (the first page)."""
        stamp, _, ident = token.partition("_")
        try:
            return cls(datetime.strptime(stamp, cls.FORMAT).replace(tzinfo=UTC), uuid.UUID(ident))
        except ValueError:
            return None


def list_my_threads(
    session: Session,
    actor: Actor,
    *,
    before: Position | None = None,
    limit: int | None = None,
) -> tuple[list[ThreadSummary], Position | None]:
    """A page of a professional's threads across their patients, the latest first (``before``:
    where the previous page ended), and where this one ends when older ones follow. Records
    where they may no longer list them (blocked, revoked, closed) drop out; each record on the
    page is audited, the others are not read."""
    if actor.kind is not ActorKind.PROFESSIONAL:
        return [], None
    limit = limit or THREADS_PAGE
    query = (
        select(Thread)
        .join(Participant, Participant.thread_id == Thread.id)
        .where(Participant.ref == actor.ref)
        .order_by(Thread.last_message_at.desc(), Thread.id)
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(
            or_(
                Thread.last_message_at < before.at,
                and_(Thread.last_message_at == before.at, Thread.id > before.id),
            )
        )
    page = list(session.execute(query).scalars())
    shown = page[:limit]
    ids = {t.patient_id for t in shown}
    seen_by_representatives = {t.patient_id for t in shown if not t.hidden_from_representatives}
    allowed = dict(
        listing.records_with_my_threads(session, actor, ids, secretly=ids - seen_by_representatives)
    )
    threads = [t for t in shown if t.patient_id in allowed]
    last = shown[-1] if shown else None
    older = Position(last.last_message_at, last.id) if last and len(page) > limit else None
    return _summarise(session, actor, threads), older


def _summaries(
    session: Session, actor: Actor, records: list[tuple[uuid.UUID, RecordFacts]]
) -> list[ThreadSummary]:
    threads = list(
        session.execute(
            select(Thread)
            .where(listed_threads(actor, records))
            .order_by(Thread.last_message_at.desc(), Thread.id)
        ).scalars()
    )
    return _summarise(session, actor, threads)


def _summarise(session: Session, actor: Actor, threads: list[Thread]) -> list[ThreadSummary]:
    unread = _unread_by_thread(session, [t.id for t in threads], reader_ref(actor))
    names = _patient_names(session, {t.patient_id for t in threads})
    return [_summary(t, names.get(t.patient_id, ""), unread.get(t.id, 0)) for t in threads]


def read_thread(
    session: Session, actor: Actor, thread_id: uuid.UUID, *, mark_read: bool = True
) -> ThreadView:
    """One thread with its messages, oldest first; reading marks them read for this reader."""
    thread = _thread(session, thread_id)
    participants = _participants(session, thread)  # loaded once: the decisions and the view
    on_thread = _thread_facts(session, thread, participants)
    facts = authorize_messaging(
        session,
        actor,
        thread.patient_id,
        Verb.READ,
        thread=on_thread,
        resource_id=str(thread.id),
    )
    me = reader_ref(actor)
    messages = list(
        session.execute(
            select(Message)
            .where(Message.thread_id == thread.id, Message.patient_id == thread.patient_id)
            .order_by(Message.sent_at, Message.id)
        ).scalars()
    )
    already = _read_by(session, [m.id for m in messages], me)
    attachments = _attachments_of(session, [m.id for m in messages])
    views = [
        MessageView(
            _facts(session, thread, m, participants, attachments.get(m.id, [])),
            mine=m.sender_ref == me,
            unread=m.id not in already,
        )
        for m in messages
    ]
    if mark_read:
        _mark_read(session, thread.patient_id, [m for m in messages if m.id not in already], me)
    name = _patient_names(session, {thread.patient_id}).get(thread.patient_id, "")
    unread = sum(1 for v in views if v.unread)
    can_reply = decide_messaging(actor, Verb.REPLY, facts, on_thread).allowed
    return ThreadView(
        thread=_summary(thread, name, unread),
        messages=views,
        participants=[p.display_name for p in participants],
        can_reply=can_reply,
    )


def read_message(session: Session, actor: Actor, message_id: uuid.UUID) -> MessageFacts:
    """One message (FHIR read); marks it read for this reader."""
    message, thread = _readable_message(session, actor, message_id)
    me = reader_ref(actor)
    if not _read_by(session, [message.id], me):
        _mark_read(session, thread.patient_id, [message], me)
    return _facts(session, thread, message)


def search_messages(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, thread_id: uuid.UUID | None = None
) -> list[MessageFacts]:
    """The messages of the record's visible threads (FHIR search), the most recent first."""
    facts = authorize_messaging(session, actor, patient_id, Verb.LIST)
    query = select(Thread).where(Thread.patient_id == patient_id, *thread_clauses(actor, facts))
    if thread_id is not None:
        query = query.where(Thread.id == thread_id)
    threads = {t.id: t for t in session.execute(query).scalars()}
    if not threads:
        return []
    messages = list(
        session.execute(
            select(Message)
            .where(Message.patient_id == patient_id, Message.thread_id.in_(threads))
            .order_by(Message.sent_at.desc(), Message.id.desc())
            .limit(500)
        ).scalars()
    )
    attachments = _attachments_of(session, [m.id for m in messages])
    participants: dict[uuid.UUID, list[Participant]] = {t: [] for t in threads}
    for participant in session.execute(
        select(Participant)
        .where(Participant.patient_id == patient_id, Participant.thread_id.in_(threads))
        .order_by(Participant.added_at)
    ).scalars():
        participants[participant.thread_id].append(participant)
    return [
        _facts(
            session,
            threads[m.thread_id],
            m,
            participants[m.thread_id],
            attachments.get(m.id, []),
        )
        for m in messages
    ]


def attachment_content(
    session: Session, actor: Actor, message_id: uuid.UUID, attachment_id: uuid.UUID
) -> tuple[AttachmentFacts, bytes]:
    """An attachment's content, decrypted, for whoever may read its thread."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.message_id != message_id:
        raise NotFound(NO_THREAD)
    _readable_message(session, actor, message_id, detail="attachment")  # decided, audited
    key = patient_data_key(session, attachment.patient_id, create=False)
    sealed = blobs_of(session).get(attachment.blob_key)
    content = envelope.decrypt(key, sealed, attachment.blob_key.encode())
    return _attachment_facts(attachment), content


def unread_for_home(
    session: Session, actor: Actor, patient_id: uuid.UUID, *, since: datetime | None = None
) -> HomeMessages:
    """For the patient's home page: the unread count, and the latest ``HOME_NEWS`` threads
    with something new (unread, or written since ``since``, the previous visit). Counted and
    chosen in the database: years of conversations are not read on every visit."""
    facts = authorize_messaging(session, actor, patient_id, Verb.LIST)
    visible = select(Thread.id).where(
        Thread.patient_id == patient_id, *thread_clauses(actor, facts)
    )
    reader = reader_ref(actor)
    read = (
        select(MessageRead.message_id)
        .where(MessageRead.message_id == Message.id, MessageRead.reader_ref == reader)
        .exists()
    )
    unread = select(Message.thread_id).where(
        Message.patient_id == patient_id,
        Message.thread_id.in_(visible),
        Message.sender_ref != reader,
        ~read,
    )
    count = session.execute(select(func.count()).select_from(unread.subquery())).scalar_one()
    new: ColumnElement[bool] = Thread.id.in_(unread)
    if since is not None:
        new = or_(new, Thread.last_message_at > since)
    threads = session.execute(
        select(Thread)
        .where(Thread.id.in_(visible), new)
        .order_by(Thread.last_message_at.desc(), Thread.id)
        .limit(HOME_NEWS)
    ).scalars()
    return HomeMessages(unread=int(count), threads=_summarise(session, actor, list(threads)))


HOME_NEWS = 10  # conversations with news listed on the patient's home


def professional_inbox(session: Session, actor: Actor, *, before: Position | None = None) -> Inbox:
    """A professional's messaging page: a page of their threads and the patients they may
    write to, each patient audited (the rows are written in the chains' order at commit: two
    professionals sharing patients never deadlock, see ``audit.append_many``)."""
    threads, older = list_my_threads(session, actor, before=before)
    patients, more = my_patients(session, actor)
    return Inbox(threads, older, patients, more)


def my_patients(
    session: Session, actor: Actor, *, limit: int = CHOICES
) -> tuple[list[PatientChoice], bool]:
    """The patients this professional may write to (``access.listing``: authorized, not
    blocked, record open, normal care), among their ``limit`` latest authorizations, by name;
    each patient named is traced on their trail. Also: whether older ones were left out."""
    shown, more = listing.patients_to_message(session, actor, limit=limit)
    return [PatientChoice(p.id, p.display_name, p.birth_date) for p in shown], more


# --- helpers -------------------------------------------------------------------------------


def reader_ref(actor: Actor) -> str:
    """Whose read receipts these are: an app reads for its patient's account."""
    if actor.kind is ActorKind.APP and actor.account_id is not None:
        return f"account:{actor.account_id}"
    return actor.ref


def _sender_kind(actor: Actor, facts: RecordFacts) -> str:
    if actor.kind is ActorKind.PROFESSIONAL:
        return "professional"
    return "representative" if facts.is_representative else "patient"


def _sender_name(session: Session, actor: Actor) -> str:
    if actor.kind is ActorKind.APP and actor.patient_id is not None:
        patient = session.get(Patient, actor.patient_id)
        if patient is not None:
            return patient.display_name
    return actor.display_name or actor.ref


def _readable_message(
    session: Session, actor: Actor, message_id: uuid.UUID, *, detail: str | None = None
) -> tuple[Message, Thread]:
    """A message and its thread, once ``access`` allowed this actor to read the thread (the
    read audited); "not found" for an unknown message."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(NO_THREAD)
    thread = _thread(session, message.thread_id)
    authorize_messaging(
        session,
        actor,
        thread.patient_id,
        Verb.READ,
        thread=_thread_facts(session, thread),
        resource_id=str(message.id),
        detail=detail,
    )
    return message, thread


def trail_ties(session: Session, patient_id: uuid.UUID) -> audit.Ties | None:
    """What ties rows of the patient's access history to the conversations hidden from a
    minor's legal representatives (for one of them): the threads' and their messages' ids, the
    rows' resource. None when there is none."""
    hidden = select(Thread.id).where(
        Thread.patient_id == patient_id, Thread.hidden_from_representatives.is_(True)
    )
    ids = session.execute(
        select(Message.id).where(Message.patient_id == patient_id, Message.thread_id.in_(hidden))
    ).scalars()
    found = frozenset(str(i) for i in ids)  # a thread's id is its first message's
    return audit.Ties(resource_ids=found) if found else None


def patient_of(session: Session, thread_or_message_id: uuid.UUID) -> uuid.UUID | None:
    """The patient whose record a thread or message belongs to, to pick the mode the access is
    made in (a portal session's secret connection, say); told to no one: the access to the
    thread is decided afterwards, as for any id."""
    return session.execute(
        select(Message.patient_id).where(Message.id == thread_or_message_id)
    ).scalar_one_or_none()


def _thread(session: Session, thread_id: uuid.UUID) -> Thread:
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise NotFound(NO_THREAD)
    return thread


def _participants(session: Session, thread: Thread) -> list[Participant]:
    return list(
        session.execute(
            select(Participant)
            .where(Participant.thread_id == thread.id, Participant.patient_id == thread.patient_id)
            .order_by(Participant.added_at)
        ).scalars()
    )


def _thread_facts(
    session: Session, thread: Thread, participants: list[Participant] | None = None
) -> ThreadFacts:
    """What the messaging rule reads of a thread (``participants``: when already loaded)."""
    if participants is None:
        participants = _participants(session, thread)
    return ThreadFacts(
        participants=frozenset(p.ref for p in participants),
        hidden_from_representatives=thread.hidden_from_representatives,
    )


def _in_thread(session: Session, thread: Thread, message_id: uuid.UUID) -> bool:
    message = session.get(Message, message_id)
    return message is not None and message.thread_id == thread.id


def _unread_by_thread(
    session: Session, thread_ids: list[uuid.UUID], reader: str
) -> dict[uuid.UUID, int]:
    if not thread_ids:
        return {}
    read = (
        select(MessageRead.message_id)
        .where(MessageRead.message_id == Message.id, MessageRead.reader_ref == reader)
        .exists()
    )
    rows = session.execute(
        select(Message.thread_id, func.count())
        .where(Message.thread_id.in_(thread_ids), Message.sender_ref != reader, ~read)
        .group_by(Message.thread_id)
    ).all()
    return {thread_id: int(count) for thread_id, count in rows}


def _read_by(session: Session, message_ids: list[uuid.UUID], reader: str) -> set[uuid.UUID]:
    if not message_ids:
        return set()
    return set(
        session.execute(
            select(MessageRead.message_id).where(
                MessageRead.message_id.in_(message_ids), MessageRead.reader_ref == reader
            )
        ).scalars()
    )


def _mark_read(
    session: Session, patient_id: uuid.UUID, messages: Iterable[Message], reader: str
) -> None:
    now = clock.now()
    for message in messages:
        session.add(
            MessageRead(
                message_id=message.id, reader_ref=reader, patient_id=patient_id, read_at=now
            )
        )
    session.flush()


def _attachments_of(
    session: Session, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Attachment]]:
    found: dict[uuid.UUID, list[Attachment]] = {}
    if not message_ids:
        return found
    for attachment in session.execute(
        select(Attachment)
        .where(Attachment.message_id.in_(message_ids))
        .order_by(Attachment.message_id, Attachment.id)
    ).scalars():
        found.setdefault(attachment.message_id, []).append(attachment)
    return found


def _patient_names(session: Session, patient_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not patient_ids:
        return {}
    rows = session.execute(select(Patient).where(Patient.id.in_(patient_ids))).scalars()
    return {p.id: p.display_name for p in rows}


def _summary(thread: Thread, patient_name: str, unread: int) -> ThreadSummary:
    return ThreadSummary(
        id=thread.id,
        patient_id=thread.patient_id,
        patient_name=patient_name,
        subject=thread.subject,
        started_by_name=thread.started_by_name,
        started_at=thread.started_at,
        last_message_at=thread.last_message_at,
        unread=unread,
        hidden_from_representatives=thread.hidden_from_representatives,
    )


def _attachment_facts(attachment: Attachment) -> AttachmentFacts:
    return AttachmentFacts(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
    )


def _facts(
    session: Session,
    thread: Thread,
    message: Message,
    participants: list[Participant] | None = None,
    attachments: list[Attachment] | None = None,
) -> MessageFacts:
    if participants is None:
        participants = _participants(session, thread)
    if attachments is None:
        attachments = _attachments_of(session, [message.id]).get(message.id, [])
    return MessageFacts(
        id=message.id,
        thread_id=thread.id,
        patient_id=thread.patient_id,
        subject=thread.subject,
        sender_kind=message.sender_kind,
        sender_ref=message.sender_ref,
        sender_name=message.sender_name,
        body=message.body,
        sent_at=message.sent_at,
        in_response_to_id=message.in_response_to_id,
        recipients=tuple((p.ref, p.display_name) for p in participants),
        hidden_from_representatives=thread.hidden_from_representatives,
        attachments=tuple(_attachment_facts(a) for a in attachments),
    )


# --- notifications -------------------------------------------------------------------------


def _notify(session: Session, thread: Thread, message: Message) -> None:
    """Tell the other side that a message arrived: who wrote, never what (no subject, no text,
    no attachment names), through the outbox, as each person chose (notify_email/notify_sms)."""
    if message.sender_kind == "professional":
        for patient_id in _patient_side(session, thread):
            if _wants_notice(session, patient_id):
                session.add(
                    enqueue("new_message", patient_id=patient_id, sender=message.sender_name)
                )
        return
    for participant in _participants(session, thread):
        if participant.professional_id is None or participant.ref == message.sender_ref:
            continue
        account = session.execute(
            select(Account).where(Account.professional_id == participant.professional_id)
        ).scalar_one_or_none()
        if account is not None and (account.notify_email or account.notify_sms):
            # the patient is not named: an e-mail is no place for who consults whom
            session.add(enqueue("new_message", account_id=account.id))


def _patient_side(session: Session, thread: Thread) -> list[uuid.UUID]:
    people = [thread.patient_id]
    if not thread.hidden_from_representatives:
        people.extend(representatives_of(session, thread.patient_id))
    return people


def _wants_notice(session: Session, patient_id: uuid.UUID) -> bool:
    account = session.execute(
        select(Account).where(Account.patient_id == patient_id)
    ).scalar_one_or_none()
    if account is not None:
        return bool(account.notify_email or account.notify_sms)
    patient = session.get(Patient, patient_id)
    return patient is not None and bool(patient.email or patient.phone)
