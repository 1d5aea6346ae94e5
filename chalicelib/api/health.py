"""GET /health: is the service up and can it reach its tables and its work queues."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import guarded, json_response
from chalicelib.api.openapi import operation
from chalicelib.observability import logger

health = Blueprint(__name__)


@health.route("/health", methods=["GET"])
@operation(summary="Whether the service reaches its tables and queues", tag="health", response="HealthAnswer")
@guarded
def get_health():
    from chalicelib.container import get_container

    container = get_container()
    checks = {"dynamodb": _check("DynamoDB", lambda: container.settings_store.get("health-probe")),
              "queues": _check("SQS", lambda: [container.sqs.probe(queue) for queue in container.products.queues()])}
    healthy = all(state == "ok" for state in checks.values())
    return json_response({"status": "ok" if healthy else "degraded", "version": container.settings.version,
                          "checks": checks}, 200 if healthy else 503)


def _check(what: str, probe) -> str:
    try:
        probe()
    except Exception:  # noqa: BLE001 - any failure to reach it is what this check reports
        logger.warning(f"health check cannot reach {what}", exc_info=True)
        return "unreachable"
    return "ok"
