"""Where a documents request spends its time, in-process and single-threaded: Carnet's ASGI app
is called directly (no uvicorn, no sockets) with the thread-pool hop made inline, so that
cProfile sees the whole request; beside it, the floor's round trips alone.

    python -m bench.profile_documents --database sqlite --scenario consult [--requests 2000]
    python -m bench.profile_documents --database postgres --scenario ingest --requests 300

It uses the database ``bench.documents`` left behind (``bench/.work/bench.db`` or the schema
``carnet_bench``; after ``carnet demo --reset`` if it is empty or ``--reset``), and tops Sylvie
up to 50 documents (after an ingest run she has more: ``--reset`` for the consult). Prints the
mean time per request without the profiler (Carnet, and the floor's round trips), the SQL
statements per request, then the profile (``--sort``, ``--top``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import io
import os
import pstats
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import event

from bench.common import (
    CARMES,
    DURAND_PS,
    IDENTIFIER,
    NIR,
    Target,
    carnet,
    env_for,
    professional_id,
    system_client_id,
)


async def call(
    app: Any,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: bytes = b"",
    content_type: str = "application/fhir+json",
) -> tuple[int, bytes]:
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1:8077")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if body:
        headers += [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8077),
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status, chunks = 0, []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scenario", choices=["consult", "ingest"], default="consult")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--bound", action="store_true", help="a token bound to Sylvie's INS")
    parser.add_argument("--reset", action="store_true", help="start from a fresh demo database")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request")
    parser.add_argument(
        "--target", default="bench", help="the database: bench (small) or scale (bench.generate)"
    )
    args = parser.parse_args()

    target = Target(args.database, name=args.target)
    keys = target.data_dir / "demo-keys" / f"{CARMES}.pem"
    if args.reset or not target.exists() or not keys.exists():
        target.reset()
        carnet("demo", "--reset", env=env_for(target))
    os.environ.update(env_for(target))

    from carnet.app import create_app
    from carnet.db import make_engine
    from carnet.settings import load_settings
    from carnet.web import deps

    async def inline(func: Any, *a: Any, **kw: Any) -> Any:  # the thread-pool hop, inline
        return func(*a, **kw)

    deps.run_in_threadpool = inline  # type: ignore[attr-defined]
    settings = load_settings()
    engine = make_engine(settings.database_url, single_writer=True)
    statements = [0]
    shown: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements[0] += 1
            shown.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", count)
    held = [0.0, 0.0]  # seconds inside transactions (on SQLite: the single writer held), count

    def began(_conn: Any) -> None:
        held[1] = time.perf_counter()

    def ended(_conn: Any) -> None:
        held[0] += time.perf_counter() - held[1]

    event.listen(engine, "begin", began)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    app = create_app(settings, engine=engine)
    loop = asyncio.new_event_loop()

    def run(method: str, path: str, **kw: Any) -> tuple[int, bytes]:
        return loop.run_until_complete(call(app, method, path, **kw))

    key = ECKey.import_key(keys.read_text())
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": system_client_id(target),
        "sub": DURAND_PS,
        "aud": settings.token_endpoint,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    if args.bound:
        claims["patient"] = IDENTIFIER
    assertion = jwt.encode({"alg": "ES256"}, claims, key)
    form = (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion
    ).encode()
    token_status, token_body = run(
        "POST", "/oauth/token", body=form, content_type="application/x-www-form-urlencoded"
    )
    assert token_status == 200, token_body
    token = orjson.loads(token_body)["access_token"]

    documents = importlib.import_module("bench.documents")
    path = documents.CONSULT_PATH
    _, body = run("GET", path, token=token)
    have = len(orjson.loads(body).get("entry") or [])
    content = documents._pdf("sylvie", 0, size=None)
    for _ in range(max(documents.CONSULT_DOCUMENTS - have, 0)):
        bundle = documents.bundle_for("sylvie", content, "11488-4", f"urn:uuid:{uuid.uuid4()}")
        assert run("POST", "/fhir", token=token, body=bundle)[0] == 200

    if args.scenario == "consult":

        def one() -> None:
            status, _ = run("GET", path, token=token)
            assert status == 200, status

        os.environ["FLOOR_DATABASE_URL"] = target.url
        os.environ["FLOOR_NIR"] = NIR
        os.environ["FLOOR_PROFESSIONAL_ID"] = professional_id(target)
        floor = importlib.import_module("bench.floor_documents")
        floor_call = floor._round_trips
    else:
        template = documents.ingest_templates(["sylvie", "lea", "jean"])[0]
        bodies = [Path(p).read_bytes() for p in template]
        counter = [0]

        def one() -> None:
            counter[0] += 1
            body = bodies[counter[0] % 3].replace(b"__UID__", f"urn:uuid:{uuid.uuid4()}".encode())
            status, answer = run("POST", "/fhir", token=token, body=body)
            assert status == 200, answer[:300]

        floor_call = None

    for _ in range(50):  # warm-up
        one()
    if args.sql:
        shown.clear()
        one()
        print("\n".join(f"  {i + 1}. {line}" for i, line in enumerate(shown)))
    statements[0] = 0
    held[0] = 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(args.requests):
        one()
    carnet_ms = (time.perf_counter() - started) * 1000 / args.requests
    cpu_ms = (time.process_time() - cpu_started) * 1000 / args.requests
    held_ms = held[0] * 1000 / args.requests
    per_request = statements[0] / args.requests
    print(
        f"{args.database} {args.scenario}: Carnet {carnet_ms:.3f} ms/request in-process "
        f"({cpu_ms:.3f} ms of CPU, {held_ms:.3f} ms inside its transactions), "
        f"{per_request:.1f} SQL statements/request (besides BEGIN and COMMIT)"
    )
    if floor_call is not None:
        for _ in range(50):
            floor_call(b"")
        started = time.perf_counter()
        for _ in range(args.requests):
            floor_call(b"")
        floor_ms = (time.perf_counter() - started) * 1000 / args.requests
        print(f"{args.database} {args.scenario}: floor {floor_ms:.3f} ms/request (round trips)")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests):
        one()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
