"""FastAPI's own OpenTelemetry instrumentation stays off: a span of a FHIR search would carry
the query string — the patient's INS — to whatever collector the process is configured with
("no health data or identifiers in logs"). A recording tracer provider, installed the way an
operator's OpenTelemetry setup would install one, is never asked for a tracer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry import _logs, metrics, trace

from tests.conftest import NIRS

CARMES, DURAND_RPPS = "310000013", "10000000017"


class RecordingTracerProvider(trace.TracerProvider):
    """What a configured SDK looks like to FastAPI (not one of the API's deferred providers)."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        self.asked.append(args)
        return trace.NoOpTracer()


class RecordingMeterProvider(metrics.MeterProvider):
    def __init__(self) -> None:
        self.asked: list[Any] = []

    def get_meter(self, *args: Any, **kwargs: Any) -> metrics.Meter:
        self.asked.append(args)
        return metrics.NoOpMeter(str(args[0]) if args else "carnet")


class RecordingLoggerProvider(_logs.LoggerProvider):
    def __init__(self) -> None:
        self.asked: list[Any] = []

    def get_logger(self, *args: Any, **kwargs: Any) -> _logs.Logger:
        self.asked.append(args)
        return _logs.NoOpLogger(str(args[0]) if args else "carnet")


def test_a_configured_collector_receives_no_span_metric_or_log_of_a_search(
    client: TestClient, system_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tracing, metering = RecordingTracerProvider(), RecordingMeterProvider()
    logs = RecordingLoggerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: tracing)
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: metering)
    monkeypatch.setattr(_logs, "get_logger_provider", lambda: logs)
    monkeypatch.setattr(_logs, "get_logger", lambda name, *args, **_: logs.get_logger(name))
    token = system_token(CARMES, DURAND_RPPS)

    answer = client.get(
        "/fhir/DocumentReference",
        params={"patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{NIRS['sylvie']}"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 200
    assert tracing.asked == []
    assert metering.asked == []
    assert logs.asked == []
