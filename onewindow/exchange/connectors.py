"""Connectors to the registries behind datasets: `local` (tables in this database) and `http`
(REST with a timeout, retries with exponential backoff, and a circuit breaker per dataset)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx
import pybreaker
from tenacity import RetryError, retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from onewindow.exchange.models import ConnectorKind, Dataset


@dataclass(frozen=True)
class Answer:
    """What a registry answered: data (found), None data (not found), or a failure reason."""

    data: dict[str, Any] | None
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure


class RegistryError(Exception):
    """A registry that timed out, failed, or answered something that is not data."""


class _Transient(Exception):
    """Worth retrying: a timeout, a connection error or a 5xx."""


# One breaker per dataset and process: after 5 failures in a row, calls fail fast for 30 s.
_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()
FAIL_MAX = 5
RESET_TIMEOUT = 30


def breaker(code: str) -> pybreaker.CircuitBreaker:
    with _lock:
        b = _breakers.get(code)
        if b is None:
            b = pybreaker.CircuitBreaker(fail_max=FAIL_MAX, reset_timeout=RESET_TIMEOUT, name=code)
            _breakers[code] = b
        return b


def reset_breakers() -> None:
    with _lock:
        _breakers.clear()


def _local(dataset: Dataset, subject: str, fields: list[str]) -> Answer:
    from onewindow.registry.lookup import lookup

    return Answer(lookup(dataset.code, subject, fields))


RETRIES = 3


def _http(dataset: Dataset, subject: str, fields: list[str]) -> Answer:
    timeout = httpx.Timeout(dataset.timeout_ms / 1000)

    @retry(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(RETRIES),
        wait=wait_exponential(multiplier=0.05, max=1),
        reraise=False,
    )
    def call() -> httpx.Response:
        try:
            r = httpx.get(
                f"{dataset.endpoint.rstrip('/')}/{subject}",
                params={"fields": ",".join(fields)},
                timeout=timeout,
                headers={"Accept": "application/json"},
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Transient(type(exc).__name__) from exc
        if r.status_code >= 500:
            raise _Transient(f"HTTP {r.status_code}")
        return r

    def guarded() -> Answer:
        try:
            r = call()
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise RegistryError(f"{cause} after {RETRIES} attempts") from exc
        if r.status_code == 404:
            return Answer(None)
        if r.status_code != 200:
            raise RegistryError(f"HTTP {r.status_code}")
        try:
            body = r.json()
        except ValueError as exc:
            raise RegistryError("response is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise RegistryError("response has no data object")
        data = body["data"]
        missing = [f for f in fields if f not in data]
        if missing:
            raise RegistryError("response lacks fields: " + ",".join(missing))
        return Answer({f: data[f] for f in fields})

    return breaker(dataset.code).call(guarded)


def exists(dataset: Dataset, subject: str) -> Answer:
    """Does the registry know the subject? Answer({}) when it does, Answer(None) when not, or a
    failure. Reads no field values from a local registry; over HTTP it asks for the first field."""
    if dataset.connector == ConnectorKind.HTTP:
        return query(dataset, subject, dataset.field_names()[:1])
    from onewindow.registry.lookup import exists as local_exists

    try:
        return Answer({} if local_exists(dataset.code, subject) else None)
    except ValueError as exc:
        return Answer(None, f"bad request: {exc}"[:300])


def query(dataset: Dataset, subject: str, fields: list[str]) -> Answer:
    """Ask the dataset's registry; failures come back as an Answer with a reason, never raised."""
    try:
        if dataset.connector == ConnectorKind.HTTP:
            return _http(dataset, subject, fields)
        return _local(dataset, subject, fields)
    except pybreaker.CircuitBreakerError:
        return Answer(None, "circuit open: registry unavailable")
    except RegistryError as exc:
        return Answer(None, str(exc)[:300])
    except ValueError as exc:
        return Answer(None, f"bad request: {exc}"[:300])
