"""Benchmark: an authorized professional's software looks up a patient by INS (token check +
access decision + audit row), at 1, 8 and 32 concurrent clients, on SQLite and PostgreSQL,
beside the floor (bench/floor.py). Load comes from wrk in a second process.

    python -m bench.run [--duration 10] [--clients 1,8,32] [--databases sqlite,postgres]

Prints a table and writes bench/results/lookup.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import urllib.parse
from typing import Any

from bench.common import (
    CARNET_PORT,
    FLOOR_PORT,
    IDENTIFIER,
    NIR,
    RESULTS,
    Target,
    busy_cpu_pct,
    carnet,
    carnet_server,
    env_for,
    floor_server,
    get_token,
    machine,
    now_iso,
    professional_id,
    wrk,
)


def run_db(kind: str, clients: list[int], seconds: int) -> dict[str, Any]:
    target = Target(kind)
    target.reset()
    carnet("demo", "--reset", env=env_for(target))
    query = urllib.parse.urlencode({"identifier": IDENTIFIER})
    results: dict[str, Any] = {"busy_cpu_pct_before": busy_cpu_pct()}
    with carnet_server(target):
        token = get_token(target)
        url = f"http://127.0.0.1:{CARNET_PORT}/fhir/Patient?{query}"
        wrk(url, 8, 2, token)  # warm-up
        results["carnet"] = [wrk(url, c, seconds, token) for c in clients]
    floor_env = {"FLOOR_NIR": NIR, "FLOOR_PROFESSIONAL_ID": professional_id(target)}
    with floor_server("bench.floor:app", target, floor_env):
        url = f"http://127.0.0.1:{FLOOR_PORT}/fhir/Patient?{query}"
        wrk(url, 8, 2, None)
        results["floor"] = [wrk(url, c, seconds, None) for c in clients]
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
        "date": now_iso(),
        "machine": machine(),
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
