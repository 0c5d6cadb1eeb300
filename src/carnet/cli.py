"""The ``carnet`` operator command. It parses arguments and calls services; nothing more."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import text

from carnet import models  # noqa: F401 - registers every table
from carnet.access import Actor, ActorKind
from carnet.audit.transaction import audited_transaction
from carnet.db import make_engine, make_session_factory
from carnet.errors import CarnetError, Invalid
from carnet.settings import InsecureSettings, Settings, load_settings

app = typer.Typer(help="Carnet — shared health record: operator commands.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
account_app = typer.Typer(help="Sign-in accounts.", no_args_is_help=True)
system_app = typer.Typer(help="Professionals' software (JWT-bearer clients).", no_args_is_help=True)
apps_app = typer.Typer(
    help="Connected apps (SMART, authorization code + PKCE).", no_args_is_help=True
)
directory_app = typer.Typer(help="Directory of professionals and structures.", no_args_is_help=True)
record_app = typer.Typer(help="Record lifecycle (insurer operations).", no_args_is_help=True)
audit_app = typer.Typer(help="Audit trail.", no_args_is_help=True)
notifications_app = typer.Typer(help="Notification outbox.", no_args_is_help=True)
terminology_app = typer.Typer(help="Reference data (BDPM, ANSM thesaurus).", no_args_is_help=True)
documents_app = typer.Typer(
    help="Documents: contents and the habilitation matrix.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(account_app, name="account")
app.add_typer(system_app, name="system")
app.add_typer(apps_app, name="app")
app.add_typer(apps_app, name="apps", hidden=True)  # the same commands, plural
app.add_typer(directory_app, name="directory")
app.add_typer(record_app, name="record")
app.add_typer(audit_app, name="audit")
app.add_typer(notifications_app, name="notifications")
app.add_typer(documents_app, name="documents")
app.add_typer(terminology_app, name="terminology")

OPERATOR = Actor(kind=ActorKind.OPERATOR, ref="cli", display_name="operator (CLI)")


def _settings() -> Settings:
    return load_settings()


def _factory(settings: Settings, *, read_only: bool = False):  # type: ignore[no-untyped-def]
    """Sessions for a command. On SQLite, a command that writes queues with the server's
    workers on the writer lock (``db.make_engine``): a worker that meets it waits in its thread
    pool, not on its event loop in SQLite's busy handler (decision 8). ``read_only``: it reads
    without ever holding the writer (a long check beside the running server)."""
    return make_session_factory(
        make_engine(settings.database_url, single_writer=not read_only, read_only=read_only),
        settings,
        blobs=_blobs(settings),
    )


def _blobs(settings: Settings):  # type: ignore[no-untyped-def]
    from carnet.documents.storage import make_blob_store

    return make_blob_store(
        settings.blob_store,
        root=settings.blob_path,
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )


def _fail(error: CarnetError) -> None:
    where = f" [{error.field}]" if error.field else ""
    typer.secho(f"error{where}: {error.message}", fg="red", err=True)
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (about one per core; not with --reload)")
    ] = 1,
) -> None:
    """Run the web service (FHIR API and portal)."""
    import uvicorn

    settings = _settings()  # refuses insecure production settings before anything starts
    uvicorn.run(
        "carnet.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        workers=None if reload else workers,
        proxy_headers=True,
        log_level="info",
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema."""
    from carnet.migrations.runner import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"schema at {revision}")


@app.command()
def demo(reset: Annotated[bool, typer.Option(help="Erase the database first")] = False) -> None:
    """Load the personas of the demo and print how to sign in as each."""
    from carnet.demo import load_demo, print_sign_in

    settings = _settings()
    if settings.env == "production":
        typer.secho("refusing to load demo data in production", fg="red", err=True)
        raise typer.Exit(2)
    from carnet.migrations.runner import upgrade

    engine = make_engine(settings.database_url)
    if reset:
        from carnet.db import Base

        Base.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(settings.database_url)
    factory = make_session_factory(engine, settings, blobs=_blobs(settings))
    try:
        with audited_transaction(factory) as session:
            summary = load_demo(session)
    except CarnetError as error:
        _fail(error)
        return
    print_sign_in(summary, settings)


@account_app.command("create")
def account_create(
    kind: Annotated[str, typer.Option(help="patient | professional | operator")],
    login: Annotated[str, typer.Option(help="Sign-in identifier (e-mail for patients)")],
    nir: Annotated[str | None, typer.Option(help="Patient's NIR (kind=patient)")] = None,
    ps_idnat: Annotated[str | None, typer.Option(help="PS_IdNat (kind=professional)")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="CARNET_NEW_PASSWORD", help="Password (prompted if absent)")
    ] = None,
) -> None:
    """Create a sign-in account; prints the TOTP secret of professionals once."""
    from carnet.accounts import service as accounts
    from carnet.accounts.models import AccountKind
    from carnet.patients.service import require_by_nir
    from carnet.professionals.service import find_professional

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    try:
        with audited_transaction(_factory(settings)) as session:
            account_kind = AccountKind(kind)
            patient_id = professional_id = None
            if account_kind is AccountKind.PATIENT:
                patient_id = require_by_nir(session, nir or "").id
            if account_kind is AccountKind.PROFESSIONAL:
                professional = find_professional(session, ps_idnat or "")
                if professional is None:
                    raise Invalid("No professional with this PS_IdNat.", field="ps_idnat")
                professional_id = professional.id
            account, secret = accounts.create_account(
                session,
                kind=account_kind,
                login=login,
                password=password,
                patient_id=patient_id,
                professional_id=professional_id,
            )
            accounts.audit_account_event(session, OPERATOR, "account.create", account.kind)
    except ValueError:
        typer.secho("error: kind must be patient, professional or operator", fg="red", err=True)
        raise typer.Exit(2) from None
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"account {account.login} created ({account.kind})")
    if secret:
        typer.echo(f"TOTP secret (enter it in an authenticator app, shown once): {secret}")


@system_app.command("register")
def system_register(
    name: Annotated[str, typer.Option(help="Software name")],
    public_key: Annotated[Path, typer.Option(help="PEM or JWK file of the public key")],
    structure: Annotated[str | None, typer.Option(help="Struct_IdNat of the structure")] = None,
) -> None:
    """Register professionals' software; prints its client id."""
    from carnet.systems import service as systems

    settings = _settings()
    try:
        with audited_transaction(_factory(settings)) as session:
            system = systems.register_system(
                session,
                OPERATOR,
                name=name,
                public_key_pem=public_key.read_text(),
                structure_idnat=structure,
            )
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"client_id: {system.client_id}")
    typer.echo(f"token endpoint: {settings.token_endpoint}")


@apps_app.command("register")
def app_register(
    name: Annotated[str, typer.Option()],
    redirect_uri: Annotated[list[str], typer.Option(help="Allowed redirect URI (repeatable)")],
    scopes: Annotated[str, typer.Option(help="Allowed scopes, e.g. 'patient/Observation.cruds'")],
    description: Annotated[str | None, typer.Option()] = None,
    listed: Annotated[bool, typer.Option(help="Show in the catalogue")] = False,
    first_party: Annotated[
        bool,
        typer.Option(help="Carnet's own patient client: acts as the patient (manages the record)"),
    ] = False,
    publisher: Annotated[str | None, typer.Option(help="The app's publisher")] = None,
    category: Annotated[
        str | None, typer.Option(help="Catalogue category (see `carnet app label --help`)")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="Client id (default: generated)")] = None,
    launch_url: Annotated[
        str | None, typer.Option(help="Page where patients start connecting the app")
    ] = None,
) -> None:
    """Register a connected app (public client, PKCE); prints its client id."""
    from carnet.apps import service as apps

    settings = _settings()
    try:
        with audited_transaction(_factory(settings)) as session:
            registered = apps.register_app(
                session,
                OPERATOR,
                name=name,
                redirect_uris=redirect_uri,
                allowed_scopes=scopes,
                description=description,
                listed=listed,
                first_party=first_party,
                publisher=publisher,
                category=category,
                client_id=client_id,
                launch_url=launch_url,
            )
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"client_id: {registered.client_id}")


@apps_app.command("list")
def app_list() -> None:
    """List the registered apps with their catalogue status."""
    from carnet.apps import service as apps

    settings = _settings()
    with _factory(settings)() as session:
        rows = apps.list_apps(session, OPERATOR)
        for a in rows:
            if not a.active:
                status = "withdrawn"
            elif a.listed and a.label and a.labelled_at:
                status = f"{a.label} since {a.labelled_at:%Y-%m-%d}"
            else:
                status = "not in the catalogue"
            kind = " (first party)" if a.first_party else ""
            typer.echo(
                f"{a.client_id}\t{a.name}{kind}\t{status}\t{a.category or '-'}\t{a.allowed_scopes}"
            )
    if not rows:
        typer.echo("no app registered")


@apps_app.command("label")
def app_label(
    client_id: Annotated[str, typer.Argument(help="The app's client id")],
    label: Annotated[str, typer.Option(help="Label: referenced")] = "referenced",
    category: Annotated[
        str | None,
        typer.Option(
            help="physical_activity | chronic_conditions | nutrition | medication | "
            "mental_health | prevention | other"
        ),
    ] = None,
) -> None:
    """Label an app after review: it appears in the patients' catalogue."""
    from carnet.apps import service as apps

    settings = _settings()
    try:
        with audited_transaction(_factory(settings)) as session:
            labelled = apps.label_app(
                session, OPERATOR, client_id=client_id, label=label, category=category
            )
            name = labelled.name
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"{name} ({client_id}) labelled {label}: listed in the catalogue")


@apps_app.command("unlist")
def app_unlist(client_id: Annotated[str, typer.Argument(help="The app's client id")]) -> None:
    """Take an app out of the catalogue (connected patients keep it until they disconnect)."""
    from carnet.apps import service as apps

    settings = _settings()
    try:
        with audited_transaction(_factory(settings)) as session:
            name = apps.unlist_app(session, OPERATOR, client_id=client_id).name
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"{name} ({client_id}) is no longer in the catalogue")


@directory_app.command("import")
def directory_import(
    kind: Annotated[str, typer.Argument(help="structures | professionals")],
    path: Annotated[
        Path, typer.Argument(help="CSV or JSON file", exists=True, dir_okay=False, readable=True)
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv | json (default: suffix)")
    ] = None,
) -> None:
    """Import structures or professionals: every row is checked first, and one bad row
    rejects the file; then rows are written 500 per transaction (a CSV file is streamed)."""
    from carnet.professionals import service as directory

    if kind not in ("structures", "professionals"):
        typer.secho("error: kind must be structures or professionals", fg="red", err=True)
        raise typer.Exit(2)
    settings = _settings()
    try:
        rows = directory.RowFile(path, fmt or path.suffix.lstrip(".").lower())
        report = directory.import_directory(_factory(settings), OPERATOR, kind, rows)
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"imported {report.imported} {kind}")


@record_app.command("create")
def record_create(
    nir: Annotated[str, typer.Option()],
    channel: Annotated[str, typer.Option(help="insurer_counter | opt_out")] = "insurer_counter",
) -> None:
    """Create a record at the insurer's counter or through the opt-out route."""
    from carnet.patients.service import require_by_nir
    from carnet.records import service as records
    from carnet.records.models import Channel

    settings = _settings()
    try:
        with audited_transaction(_factory(settings)) as session:
            patient = require_by_nir(session, nir)
            record = records.create_record(session, OPERATOR, patient.id, channel=Channel(channel))
    except ValueError:
        typer.secho("error: unknown channel", fg="red", err=True)
        raise typer.Exit(2) from None
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"record {record.status} (channel {record.channel})")


@record_app.command("issue-code")
def record_issue_code(
    nir: Annotated[str, typer.Option()],
    delivery: Annotated[str, typer.Option(help="letter | email | sms")] = "letter",
) -> None:
    """Issue a one-time activation code (printed for a letter, or sent)."""
    from carnet.patients.service import require_by_nir
    from carnet.records import service as records

    settings = _settings()
    try:
        with audited_transaction(_factory(settings)) as session:
            patient = require_by_nir(session, nir)
            code = records.issue_activation_code(session, OPERATOR, patient.id, delivery=delivery)
    except CarnetError as error:
        _fail(error)
        return
    typer.echo(f"activation code: {code}" if delivery == "letter" else f"code sent by {delivery}")


@app.command()
def purge(
    limit: Annotated[int, typer.Option(min=1, help="At most this many records in this run")] = 1000,
    batch: Annotated[int, typer.Option(min=1, help="Records per transaction")] = 20,
) -> None:
    """Remove records whose 10-year retention has ended (run it daily from cron/systemd). A batch
    at a time, each in its own transaction with its count on the system trail: the server's
    writers wait for a batch, not for the whole run, and a run cut short resumes where it
    stopped."""
    from carnet.records import service as records

    settings = _settings()
    factory = _factory(settings)
    purged = 0
    while purged < limit:
        size = min(batch, limit - purged)
        with audited_transaction(factory) as session:
            report = records.purge_due(session, OPERATOR, limit=size)
        purged += report.purged
        if report.purged < size:
            break
    typer.echo(f"purged {purged} record(s)")


@audit_app.command("verify")
def audit_verify(
    chain: Annotated[str | None, typer.Option(help="One chain (patient id)")] = None,
) -> None:
    """Check every hash chain; exit 1 and list the problems if any row was altered, removed or
    reordered."""
    from carnet.audit.service import verify

    settings = _settings()
    with _factory(settings, read_only=True)() as session:  # the server goes on writing meanwhile
        problems = list(verify(session, chain))
    if problems:
        for p in problems:
            typer.secho(f"chain {p.chain} at #{p.seq}: {p.problem}", fg="red")
        raise typer.Exit(1)
    typer.echo("audit trail intact")


@notifications_app.command("run")
def notifications_run(
    once: Annotated[bool, typer.Option(help="One pass, then exit")] = False,
) -> None:
    """Send due notifications (a separate worker when ``CARNET_RUN_WORKER=false`` in serve)."""
    import time

    from carnet.notifications.worker import dispatch_due, make_sender

    settings = _settings()
    factory = _factory(settings)
    sender = make_sender(settings)
    while True:
        sent = dispatch_due(factory, sender, settings)
        if once:
            typer.echo(f"sent {sent}")
            return
        time.sleep(settings.outbox_poll_seconds)


@terminology_app.command("import")
def terminology_import(
    bdpm: Annotated[
        Path | None, typer.Option(help="Folder with CIS_bdpm.txt, CIS_COMPO_bdpm.txt")
    ] = None,
    thesaurus: Annotated[
        Path | None,
        typer.Option(help="Folder with the ANSM thesaurus JSON and its substance index"),
    ] = None,
    target: Annotated[
        Path | None,
        typer.Option(
            help="Where to install them (default: CARNET_TERMINOLOGY_DIR or <data_dir>/terminology)"
        ),
    ] = None,
) -> None:
    """Validate newer official BDPM / ANSM files and install them; then set
    CARNET_TERMINOLOGY_DIR to the target folder and restart."""
    from carnet.terminology.drugs import TerminologyImportError, import_official

    settings = _settings()
    folder = target or settings.terminology_dir or settings.data_dir / "terminology"
    if bdpm is None and thesaurus is None:
        typer.secho("error: give --bdpm and/or --thesaurus", fg="red", err=True)
        raise typer.Exit(2)
    try:
        report = import_official(bdpm, thesaurus, folder)
    except TerminologyImportError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"installed into {folder}; set CARNET_TERMINOLOGY_DIR={folder}")


@documents_app.command("verify")
def documents_verify() -> None:
    """Check that every stored document (and message attachment) is there, decrypts and matches
    its hash; exit 1 and list the problems otherwise."""
    from carnet.documents.service import verify_contents

    settings = _settings()
    with _factory(settings, read_only=True)() as session:  # the server goes on writing meanwhile
        problems = list(verify_contents(session))
        total = session.execute(
            text("SELECT count(*) FROM document_entries WHERE current")
        ).scalar_one()
    if problems:
        for p in problems:
            typer.secho(f"{p.kind} {p.entry_id}: {p.problem}", fg="red")
        raise typer.Exit(1)
    typer.echo(f"{total} document(s) verified")


@documents_app.command("rewrap-keys")
def documents_rewrap_keys() -> None:
    """Master-key rotation: wrap every patient's data key with CARNET_MASTER_KEY, opening it
    with that key or one of CARNET_PREVIOUS_MASTER_KEYS. Contents are not re-encrypted. Exit 1
    if a key opens with none of them (listed by patient id)."""
    from carnet.documents.service import rewrap_keys

    settings = _settings()
    with _factory(settings)() as session:
        done = rewrap_keys(session, OPERATOR)
    typer.echo(f"{done.rewrapped} data key(s) rewrapped, {done.current} already current")
    if done.unreadable:
        for patient_id in done.unreadable:
            typer.secho(f"unreadable data key: patient {patient_id}", fg="red", err=True)
        raise typer.Exit(1)


@documents_app.command("gc")
def documents_gc(
    older_than_hours: Annotated[float, typer.Option(help="Only blobs older than this")] = 24,
) -> None:
    """Remove contents that no document or message attachment refers to (left by an upload
    interrupted before its metadata was committed) and temporary files of interrupted writes."""
    from carnet.documents.service import collect_orphans

    settings = _settings()
    # It reads rows and deletes contents: on SQLite it never holds the writer, so the server
    # goes on writing while it lists the store (a HEAD per unknown object on S3).
    with _factory(settings, read_only=True)() as session:
        removed = collect_orphans(session, older_than_seconds=older_than_hours * 3600)
    typer.echo(f"removed {removed} orphan content(s)")


@documents_app.command("check-matrix")
def documents_check_matrix(
    path: Annotated[Path, typer.Argument(help="A habilitation matrix CSV to check")],
) -> None:
    """Check an edited habilitation matrix before pointing CARNET_HABILITATION_MATRIX at it."""
    from carnet.terminology.habilitations import MatrixError, parse_matrix

    try:
        matrix = parse_matrix(path.read_text(encoding="utf-8"), source=str(path))
    except MatrixError as error:
        for problem in error.problems:
            typer.secho(problem, fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"matrix valid: {len(matrix.professions())} profession(s) with rules")


@app.command()
def totp(login: str) -> None:
    """Development only: print the current TOTP code of a demo professional account."""
    import pyotp

    from carnet.accounts import service as accounts

    settings = _settings()
    if settings.env == "production":
        typer.secho("not available in production", fg="red", err=True)
        raise typer.Exit(2)
    with _factory(settings)() as session:
        account = accounts.find_account(session, login)
        secret = accounts.totp_secret(session, account) if account else None
    if not secret:
        typer.secho("no such professional account", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(pyotp.TOTP(secret).now())


def main() -> None:
    try:
        app()
    except InsecureSettings as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)
