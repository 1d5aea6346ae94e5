"""Chalice middleware: logging context, correlation ids and metrics flushing for every kind of invocation
(HTTP, SQS, schedules); for HTTP also the body limit and the route's content types, answered in our envelope."""
from __future__ import annotations

import uuid
from typing import Any, Callable

from chalice import Chalice

from chalicelib import cold_start
from chalicelib.api.http import MAX_BODY_BYTES, check_content_type, choose_request_id, error_response
from chalicelib.domain.errors import DomainError, PayloadTooLarge
from chalicelib.observability import logger, metrics, take_cold_start, trace_segment


def _start_invocation(kind: str, correlation_id: str) -> None:
    from chalicelib.container import get_container

    get_container()  # settings are validated before any work; a bad setting stops here, named
    logger.clear_state()
    logger.set_correlation_id(correlation_id)
    logger.append_keys(invocation=kind)
    if take_cold_start():
        metrics.add_metric(name="ColdStart", unit="Count", value=1)


def _finish_invocation() -> None:
    try:
        if metrics.metric_set:  # an empty flush only prints a warning
            metrics.flush_metrics()
    finally:
        cold_start.release_collection()


def _refuse_early(app: Chalice, request: Any) -> None:
    """What is refused before any handler runs: a body over the limit, a Content-Type the route does not take."""
    if len(request.raw_body or b"") > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body exceeds {MAX_BODY_BYTES} bytes")
    route = app.routes.get(request.context.get("resourcePath", ""), {}).get(request.method)
    if route is not None:
        check_content_type(request.headers.get("content-type"), route.content_types)


def http_middleware(app: Chalice) -> Callable[[Any, Callable[[Any], Any]], Any]:
    def middleware(request: Any, get_response: Callable[[Any], Any]) -> Any:
        request_id = choose_request_id(request.headers, request.context)
        try:
            _start_invocation("http", request_id)
            logger.append_keys(method=request.method, path=request.context.get("resourcePath", request.path))
            with trace_segment(f"## {request.method} {request.path}"):
                try:
                    _refuse_early(app, request)
                except DomainError as refusal:
                    response = error_response(refusal)
                else:
                    response = get_response(request)
        finally:
            _finish_invocation()
        response.headers["X-Request-Id"] = request_id
        logger.info("request served", extra={"status": response.status_code})
        return response

    return middleware


def event_middleware(kind: str) -> Callable[[Any, Callable[[Any], Any]], Any]:
    def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
        raw = event.to_dict()
        try:
            _start_invocation(kind, raw.get("id") or str(uuid.uuid4()))
            with trace_segment(f"## {kind}"):
                return get_response(event)
        finally:
            _finish_invocation()

    return middleware


def install(app: Chalice) -> None:
    app.register_middleware(http_middleware(app), "http")
    app.register_middleware(event_middleware("sqs"), "sqs")
    app.register_middleware(event_middleware("schedule"), "scheduled")
