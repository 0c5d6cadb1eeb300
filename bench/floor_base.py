"""What the floors share: the engine Carnet would use on the same database, and a bare ASGI app
around a synchronous handler run where Carnet runs its transactions (decisions 8 and 10): on
the event loop, or in the thread pool with Starlette's default size when Carnet's setting
``CARNET_TRANSACTIONS_ON_LOOP`` is off in the environment. A floor module builds
``app = asgi(handler)``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import anyio

from carnet.db import make_engine
from carnet.settings import Settings

engine = make_engine(os.environ["FLOOR_DATABASE_URL"], single_writer=True)  # Carnet's settings
limiter = anyio.CapacityLimiter(40)  # Starlette's default thread pool size, as in Carnet
ON_LOOP = Settings().transactions_on_loop  # as carnet.web.deps.ConnectionUse


class Refused(Exception):
    """A request the floor cannot serve: answered 400 with the message."""


def asgi(handler: Callable[[bytes], bytes]) -> Callable[..., Any]:
    """An ASGI app answering every request with ``handler(body)`` (200, FHIR JSON)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        status = 200
        try:
            if ON_LOOP:
                body = handler(b"".join(chunks))
            else:
                body = await anyio.to_thread.run_sync(handler, b"".join(chunks), limiter=limiter)
        except Refused as refused:
            status, body = 400, str(refused).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/fhir+json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app
