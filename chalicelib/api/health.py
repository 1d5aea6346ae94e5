"""GET /health: is the service up and can it reach its tables."""
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
    try:
        container.settings_store.get("health-probe")
        dynamodb = "ok"
    except Exception:  # noqa: BLE001 - any failure to reach the table is what this check reports
        logger.warning("health check cannot reach DynamoDB", exc_info=True)
        dynamodb = "unreachable"
    healthy = dynamodb == "ok"
    return json_response({"status": "ok" if healthy else "degraded", "version": container.settings.version,
                          "checks": {"dynamodb": dynamodb}}, 200 if healthy else 503)
