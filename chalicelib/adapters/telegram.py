"""The one Telegram Bot API client: httpx for transport, tenacity for bounded retries.

Retried, for every method: connection failures (nothing was sent) and 429 (Telegram refused to act; after
its `retry_after`). Retried only for repeatable methods: 5xx, since Telegram may have acted before failing
to answer. A method is repeatable when doing it twice is the same as doing it once (reading, setting or
editing to a given value); a gift, a message or a document would happen twice, so for those a 5xx is an
unknown outcome at once. Never retried: a request that was sent and got no answer (timeout, dropped
connection). Backoff is exponential with jitter, inside a time budget well below the function timeout.

`TelegramUnreachable` promises that no attempt reached Telegram (the caller may safely try again);
anything that may have arrived is `TelegramOutcomeUnknown`.

Both libraries load when first needed, not at import: httpx on the first call, tenacity only when a call
fails transiently (a cold container's first update then pays for neither the retry machinery nor, for a
plain-http Bot API, the CA bundle).
"""
from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Callable

from chalicelib.domain.ports.telegram import TelegramError, TelegramOutcomeUnknown, TelegramUnreachable

if TYPE_CHECKING:
    import httpx
    from tenacity import RetryCallState

MAX_ATTEMPTS = 5
REPEATABLE_PREFIXES = ("get", "set", "edit")
REPEATABLE_METHODS = frozenset({"deletewebhook", "deletemycommands"})


def repeatable(method: str) -> bool:
    """Doing it twice is the same as doing it once, so a 5xx may be retried."""
    name = method.lower()
    return name.startswith(REPEATABLE_PREFIXES) or name in REPEATABLE_METHODS


class _Transient(Exception):
    def __init__(self, reason: str, *, sent: bool, retry_after: float | None = None,
                 error: TelegramError | None = None) -> None:
        super().__init__(reason)
        self.sent = sent
        self.retry_after = retry_after
        self.error = error


def _wait(state: RetryCallState) -> float:
    from tenacity import wait_exponential_jitter

    outcome = state.outcome
    error = outcome.exception() if outcome else None
    if isinstance(error, _Transient) and error.retry_after is not None:
        return error.retry_after
    return wait_exponential_jitter(multiplier=0.5, max=4, jitter=0.5)(state)


class TelegramClient:
    def __init__(self, base_url: str, token: str, *, timeout_seconds: float, retry_budget_seconds: float,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 before_first_call: Callable[[], None] = lambda: None) -> None:
        self._base = f"{base_url.rstrip('/')}/bot{token}/"
        self._timeout = (timeout_seconds, min(3.0, timeout_seconds))   # (any step, connecting)
        self._budget = retry_budget_seconds
        self._transport = transport
        self._sleep = sleep
        self._before_first_call = before_first_call
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._before_first_call()
            # A plain-http Bot API (a local Bot API server, the sandbox) is never TLS: loading the CA bundle
            # for it would cost the first call of a cold container tens of milliseconds for nothing.
            self._client = httpx.Client(timeout=httpx.Timeout(self._timeout[0], connect=self._timeout[1]),
                                        transport=self._transport, verify=self._base.startswith("https:"))
        return self._client

    def call(self, method: str, params: dict[str, Any], *, files: dict | None = None) -> Any:
        started = time.monotonic()
        try:
            return self._attempt(method, params, files)   # most calls: one attempt, no retry machinery loaded
        except _Transient as first:
            return self._retry(method, params, files, first, self._budget - (time.monotonic() - started))

    def _retry(self, method: str, params: dict[str, Any], files: dict | None, first: _Transient,
               budget_left: float) -> Any:
        """The attempts after a first transient failure, as if tenacity had made the first one too: it counts
        towards the attempts and the budget, and its failure decides the first wait."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay

        retrying = Retrying(retry=retry_if_exception_type(_Transient), wait=_wait, sleep=self._sleep,
                            stop=stop_after_attempt(MAX_ATTEMPTS) | stop_before_delay(budget_left), reraise=True)
        failed_first: list[_Transient] = [first]
        arrived = first.sent  # whether any attempt may have reached Telegram

        def attempt() -> Any:
            nonlocal arrived
            if failed_first:
                raise failed_first.pop()
            try:
                return self._attempt(method, params, files)
            except _Transient as transient:
                arrived = arrived or transient.sent
                raise

        try:
            return retrying(attempt)
        except _Transient as exhausted:
            if arrived:
                raise TelegramOutcomeUnknown(f"{method}: {exhausted}") from None
            if exhausted.error is not None and exhausted.error.error_code == 429:
                raise TelegramUnreachable(f"{method}: still rate limited") from None
            raise TelegramUnreachable(f"{method}: {exhausted}") from None

    def _attempt(self, method: str, params: dict[str, Any], files: dict | None) -> Any:
        import httpx

        clean = {key: value for key, value in params.items() if value is not None}
        try:
            if files:
                form = {key: value if isinstance(value, str) else json.dumps(value) for key, value in clean.items()}
                response = self._http().post(self._base + method, data=form, files=files)
            else:
                response = self._http().post(self._base + method, json=clean)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise _Transient(f"connection failed: {type(error).__name__}", sent=False) from None
        except httpx.TransportError as error:
            # The request left; Telegram may have acted on it. Not retried.
            raise TelegramOutcomeUnknown(f"{method}: {type(error).__name__}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = {"ok": False, "description": response.text[:200]}
        if payload.get("ok"):
            return payload.get("result")
        error = TelegramError(str(payload.get("description") or f"HTTP {response.status_code}"),
                              int(payload.get("error_code") or response.status_code),
                              retry_after=(payload.get("parameters") or {}).get("retry_after"))
        if error.error_code == 429:
            raise _Transient("rate limited", sent=False, retry_after=float(error.retry_after or 1), error=error)
        if error.error_code >= 500:
            if not repeatable(method):
                raise TelegramOutcomeUnknown(f"{method}: server error {error.error_code}, not repeated: "
                                             "Telegram may have acted")
            raise _Transient(f"server error {error.error_code}", sent=True, error=error)
        raise error
