"""What the benchmarks share: where the databases live, starting and stopping servers, getting a
real JWT-bearer token, driving wrk and reading its figures, and noticing a busy machine.

A *target* is one benchmark database: ``Target("sqlite")`` is ``bench/.work/bench.db`` and
``Target("postgres")`` the schema ``carnet_bench`` (both recreated by every run, as
``bench.run`` always did); ``Target(kind, "scale")`` is ``bench/.work/scale.db`` or the schema
``carnet_bench_scale``, kept between runs because generating it takes minutes. Each target has
its own data directory ``bench/.work/var-<name>-<kind>`` (blobs, demo keys): ``carnet demo
--reset`` writes new keys each time.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
INS_OID = "1.2.250.1.213.1.4.8"
NIR = "275033155500425"  # Sylvie Martin
IDENTIFIER = f"urn:oid:{INS_OID}|{NIR}"
CARNET_PORT, FLOOR_PORT, SMALL_PORT = 8077, 8078, 8079  # SMALL: scale's small DB
DURAND_PS = "810000000017"  # Dr Paul Durand, general practitioner, Cabinet médical des Carmes
CARMES = "310000013"  # FINESS of his practice, whose software holds the demo key
CARNET_EXE = str(Path(sys.executable).parent / "carnet")


@dataclass(frozen=True)
class Target:
    kind: str  # "sqlite" or "postgres"
    name: str = "bench"

    @property
    def schema(self) -> str:
        return PG_SCHEMA if self.name == "bench" else f"{PG_SCHEMA}_{self.name}"

    @property
    def sqlite_path(self) -> Path:
        return WORK / f"{self.name}.db"

    @property
    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"{PG_URL}?options=-csearch_path%3D{self.schema}"

    @property
    def data_dir(self) -> Path:
        return WORK / f"var-{self.name}-{self.kind}"

    def reset(self) -> None:
        """An empty database (and an empty data directory)."""
        WORK.mkdir(parents=True, exist_ok=True)
        _remove_tree(self.data_dir)
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
            return
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        admin.dispose()

    def exists(self) -> bool:
        """Whether the database has Carnet's schema (for targets kept between runs)."""
        if self.kind == "sqlite" and not self.sqlite_path.exists():
            return False
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                if self.kind == "sqlite":
                    query = "SELECT count(*) FROM sqlite_master WHERE name = 'document_entries'"
                else:
                    query = (
                        "SELECT count(*) FROM information_schema.tables "
                        "WHERE table_schema = :s AND table_name = 'document_entries'"
                    )
                return bool(conn.execute(text(query), {"s": self.schema}).scalar_one())
        finally:
            engine.dispose()


def _remove_tree(path: Path) -> None:
    if path.exists():
        subprocess.run(["rm", "-rf", str(path)], check=True)


def database_url(kind: str) -> str:
    return Target(kind).url


def reset(kind: str) -> None:
    Target(kind).reset()


def env_for(target: Target | str, port: int = CARNET_PORT) -> dict[str, str]:
    target = Target(target) if isinstance(target, str) else target
    return {
        **os.environ,
        "CARNET_DATABASE_URL": target.url,
        "CARNET_DATA_DIR": str(target.data_dir),
        "CARNET_RUN_WORKER": "false",
        "CARNET_ENV": "development",
        "CARNET_ACCESS_TOKEN_TTL_SECONDS": "3600",
        "CARNET_PORT": str(port),
        "CARNET_BASE_URL": f"http://127.0.0.1:{port}",
    }


def carnet(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([CARNET_EXE, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"carnet {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def wait_ready(port: int, path: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def serve(cmd: list[str], env: dict[str, str], port: int, path: str) -> subprocess.Popen[bytes]:
    _check_port_free(port)
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_ready(port, path, process)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server we started (by its pid), however the benchmark ended."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(
    cmd: list[str], env: dict[str, str], port: int, path: str
) -> Iterator[subprocess.Popen[bytes]]:
    process = serve(cmd, env, port, path)
    try:
        yield process
    finally:
        stop(process)


WORKERS = [1]  # uvicorn worker processes, for Carnet and the floor alike (--workers)


def carnet_server(
    target: Target, port: int = CARNET_PORT
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """``carnet serve`` on the target, with ``WORKERS[0]`` uvicorn workers (1 by default)."""
    return running(
        [CARNET_EXE, "serve", "--port", str(port), "--workers", str(WORKERS[0])],
        env_for(target, port),
        port,
        "/fhir/metadata",
    )


def floor_server(
    app: str, target: Target, extra_env: dict[str, str]
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """A bare ASGI floor app (``bench.floor:app``…) under uvicorn, the same way."""
    env = {
        **env_for(target),
        "FLOOR_DATABASE_URL": target.url,
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(FLOOR_PORT),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(WORKERS[0]),
    ]
    return running(cmd, env, FLOOR_PORT, "/")


def _check_port_free(port: int) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
        raise RuntimeError(f"port {port} is already in use: is another benchmark running?")


def system_client_id(target: Target, finess: str = CARMES) -> str:
    engine = create_engine(target.url)
    with engine.connect() as conn:
        client_id = conn.execute(
            text(
                "SELECT s.client_id FROM systems s JOIN structures st ON st.id = s.structure_id "
                "WHERE st.finess = :f"
            ),
            {"f": finess},
        ).scalar_one()
    engine.dispose()
    return str(client_id)


def get_token(
    target: Target | str, patient: str | None = IDENTIFIER, port: int = CARNET_PORT
) -> str:
    """A real access token for Dr Durand through his practice's software (RFC 7523 assertion
    signed with the demo key), bound to ``patient`` (an INS token) or to no patient."""
    target = Target(target) if isinstance(target, str) else target
    key = ECKey.import_key((target.data_dir / "demo-keys" / f"{CARMES}.pem").read_text())
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": system_client_id(target),
        "sub": DURAND_PS,
        "aud": f"http://127.0.0.1:{port}/oauth/token",
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    if patient:
        claims["patient"] = patient
    assertion = jwt.encode({"alg": "ES256"}, claims, key)
    response = httpx.post(
        f"http://127.0.0.1:{port}/oauth/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def professional_id(target: Target | str, ps_idnat: str = DURAND_PS) -> str:
    """The professional's id as stored (hex on SQLite, uuid text on PostgreSQL)."""
    target = Target(target) if isinstance(target, str) else target
    engine = create_engine(target.url)
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT id FROM professionals WHERE ps_idnat = :p"), {"p": ps_idnat}
        ).scalar_one()
    engine.dispose()
    return str(value)


# --- wrk ------------------------------------------------------------------------------------

LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    clients: int,
    seconds: int,
    token: str | None,
    *,
    script: Path | None = None,
    script_args: Sequence[str] = (),
    watch_pid: int | None = None,
) -> dict[str, Any]:
    """One load point. ``watch_pid``: the server, whose CPU use over the point is reported
    (in % of one core; the rest of the 2 cores goes to wrk and the database)."""
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
    if script is not None:
        args += ["-s", str(script)]
    args.append(url)
    if script_args:
        args += ["--", *script_args]
    cpu_before = _cpu_snapshot() if watch_pid else None
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    cpu_after = _cpu_snapshot() if watch_pid else None
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-2000:]}")
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: float(v) * UNIT[u] for p, v, u in LATENCY.findall(out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    point: dict[str, Any] = {
        "clients": clients,
        "rps": round(rps, 1),
        "p50_ms": round(lat["50"], 2),
        "p99_ms": round(lat["99"], 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }
    if sockets:
        point["socket_errors"] = sockets.group(1).strip()
    if cpu_before is not None and cpu_after is not None:
        point.update(_cpu_use(cpu_before, cpu_after, elapsed, watch_pid or 0))
    return point


@dataclass
class CpuSnapshot:
    processes: dict[int, tuple[str, int, float]]  # pid: (comm, ppid, cpu seconds)
    children: float  # our finished children (wrk)
    irq: float  # the machine's irq + softirq seconds (loopback networking, mostly)


def _cpu_snapshot() -> CpuSnapshot:
    import resource

    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            processes[int(entry.name)] = (comm, int(fields[1]), _stat_seconds(stat))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return CpuSnapshot(
        processes,
        children.ru_utime + children.ru_stime,
        (values[5] + values[6]) / os.sysconf("SC_CLK_TCK"),
    )


def _cpu_use(
    before: CpuSnapshot, after: CpuSnapshot, elapsed: float, server: int
) -> dict[str, int]:
    """CPU used during a point, in % of one core: the server, wrk, PostgreSQL (ours and anyone
    else's), the kernel (threads, irq), and other processes: someone else's work, which
    disturbs the point (processes that came and went within it are not seen)."""
    use = {"server": 0.0, "wrk": after.children - before.children, "postgres": 0.0}
    use.update(kernel=after.irq - before.irq, other=0.0)
    me = os.getpid()
    for pid, (comm, ppid, seconds) in after.processes.items():
        delta = seconds - before.processes.get(pid, (comm, ppid, 0.0))[2]
        if pid == server or ppid == server:  # uvicorn's workers are the server's children
            use["server"] += delta
        elif comm == "postgres":
            use["postgres"] += delta
        elif ppid == 2 or pid == 2:
            use["kernel"] += delta
        elif pid != me:
            use["other"] += delta
    return {f"{name}_cpu_pct": round(100 * value / elapsed) for name, value in use.items()}


def _stat_seconds(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_cpu_seconds(pid: int) -> float:
    try:
        return _stat_seconds(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0


# --- the machine ----------------------------------------------------------------------------


def busy_cpu_pct(seconds: float = 0.5) -> float:
    """How busy the CPUs are right now, in % of all cores (run while our servers are idle: what
    it shows is someone else's load)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return round(100 * (busy1 - busy0) / max(total1 - total0, 1), 1)


def wait_for_quiet(threshold: float = 10.0, max_wait: float = 900.0) -> float:
    """Wait (up to ``max_wait`` s) until other processes leave the CPUs alone, and return the
    busy % last seen (our servers are idle between points, so any load is someone else's)."""
    deadline = time.monotonic() + max_wait
    warned = False
    while True:
        busy = busy_cpu_pct(1.0)
        if busy < threshold or time.monotonic() > deadline:
            return busy
        if not warned:
            print(f"  the machine is busy ({busy:.0f} % of the CPUs): waiting…", flush=True)
            warned = True
        time.sleep(5)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
