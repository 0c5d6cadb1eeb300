"""Benchmark: an authorized professional's software looks up a patient by INS (token check +
access decision + audit row), at 1, 8 and 32 concurrent clients, on SQLite and PostgreSQL,
beside the floor (bench/floor.py). Load comes from wrk in a second process.

    python -m bench.run [--duration 10] [--clients 1,8,32] [--databases sqlite,postgres]

Prints a table and writes bench/results/lookup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "carnet_bench"
NIR = "275033155500425"
IDENTIFIER = f"urn:oid:1.2.250.1.213.1.4.8|{NIR}"
CARNET_PORT, FLOOR_PORT = 8077, 8078
DURAND_PS = "810000000017"
CARMES = "310000013"


def database_url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{WORK / 'bench.db'}"
    return f"{PG_URL}?options=-csearch_path%3D{PG_SCHEMA}"


def reset(kind: str) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (WORK / f"bench.db{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    admin.dispose()


def env_for(kind: str) -> dict[str, str]:
    return {
        **os.environ,
        "CARNET_DATABASE_URL": database_url(kind),
        "CARNET_DATA_DIR": str(WORK / "var"),
        "CARNET_RUN_WORKER": "false",
        "CARNET_ENV": "development",
        "CARNET_ACCESS_TOKEN_TTL_SECONDS": "3600",
        "CARNET_PORT": str(CARNET_PORT),
        "CARNET_BASE_URL": f"http://127.0.0.1:{CARNET_PORT}",
    }


def carnet(*args: str, env: dict[str, str]) -> str:
    exe = Path(sys.executable).parent / "carnet"
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def wait_ready(port: int, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def get_token(kind: str) -> str:
    engine = create_engine(database_url(kind))
    with engine.connect() as conn:
        client_id = conn.execute(
            text(
                "SELECT s.client_id FROM systems s JOIN structures st ON st.id = s.structure_id "
                "WHERE st.finess = :f"
            ),
            {"f": CARMES},
        ).scalar_one()
    engine.dispose()
    key = ECKey.import_key((WORK / "var" / "demo-keys" / f"{CARMES}.pem").read_text())
    now = int(time.time())
    assertion = jwt.encode(
        {"alg": "ES256"},
        {
            "iss": client_id,
            "sub": DURAND_PS,
            "aud": f"http://127.0.0.1:{CARNET_PORT}/oauth/token",
            "iat": now,
            "exp": now + 120,
            "jti": str(uuid.uuid4()),
            "patient": IDENTIFIER,
        },
        key,
    )
    response = httpx.post(
        f"http://127.0.0.1:{CARNET_PORT}/oauth/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def professional_id(kind: str) -> str:
    engine = create_engine(database_url(kind))
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT id FROM professionals WHERE ps_idnat = :p"), {"p": DURAND_PS}
        ).scalar_one()
    engine.dispose()
    return str(value)


LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, clients: int, seconds: int, token: str | None) -> dict[str, Any]:
    args = [
        "wrk",
        "-t",
        str(min(clients, 2)),
        "-c",
        str(clients),
        "-d",
        f"{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: float(v) * UNIT[u] for p, v, u in LATENCY.findall(out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "clients": clients,
        "rps": round(rps, 1),
        "p50_ms": round(lat["50"], 2),
        "p99_ms": round(lat["99"], 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def serve(cmd: list[str], env: dict[str, str], port: int, path: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, path)
    return process


def run_db(kind: str, clients: list[int], seconds: int) -> dict[str, Any]:
    reset(kind)
    env = env_for(kind)
    carnet("demo", "--reset", env=env)
    query = urllib.parse.urlencode({"identifier": IDENTIFIER})
    results: dict[str, Any] = {}
    server = serve(
        [str(Path(sys.executable).parent / "carnet"), "serve", "--port", str(CARNET_PORT)],
        env,
        CARNET_PORT,
        "/fhir/metadata",
    )
    try:
        token = get_token(kind)
        url = f"http://127.0.0.1:{CARNET_PORT}/fhir/Patient?{query}"
        wrk(url, 8, 2, token)  # warm-up
        results["carnet"] = [wrk(url, c, seconds, token) for c in clients]
    finally:
        server.terminate()
        server.wait()
    floor_env = {
        **env,
        "FLOOR_DATABASE_URL": database_url(kind),
        "FLOOR_NIR": NIR,
        "FLOOR_PROFESSIONAL_ID": professional_id(kind),
    }
    floor = serve(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.floor:app",
            "--port",
            str(FLOOR_PORT),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {**floor_env, "PYTHONPATH": str(ROOT)},
        FLOOR_PORT,
        "/",
    )
    try:
        url = f"http://127.0.0.1:{FLOOR_PORT}/fhir/Patient?{query}"
        wrk(url, 8, 2, None)
        results["floor"] = [wrk(url, c, seconds, None) for c in clients]
    finally:
        floor.terminate()
        floor.wait()
    results["ratio"] = [
        round(c["rps"] / f["rps"], 2)
        for c, f in zip(results["carnet"], results["floor"], strict=True)
    ]
    return results


def table(report: dict[str, Any]) -> str:
    lines = [
        "| database | clients | Carnet req/s | p50 ms | p99 ms | floor req/s | floor p50 ms"
        " | floor p99 ms | Carnet / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, res in report["databases"].items():
        for c, f, r in zip(res["carnet"], res["floor"], res["ratio"], strict=True):
            lines.append(
                f"| {kind} | {c['clients']} | {c['rps']:.0f} | {c['p50_ms']} | "
                f"{c['p99_ms']} | {f['rps']:.0f} | {f['p50_ms']} | {f['p99_ms']} | "
                f"{r:.0%} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    clients = [int(c) for c in args.clients.split(",")]
    report: dict[str, Any] = {
        "scenario": "INS lookup by an authorized professional (token + access + audit row)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "duration_s": args.duration,
        "databases": {},
    }
    for kind in args.databases.split(","):
        report["databases"][kind] = run_db(kind, clients, args.duration)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lookup.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nwritten to {RESULTS / 'lookup.json'}")


if __name__ == "__main__":
    main()
