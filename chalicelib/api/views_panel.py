"""What every browser page shows around its content (the stage prefix for links, who is signed in, the CSRF
token for forms, a flash message after an action), and the CSV exports."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

from chalice import Response

PANEL_NAV = (("dashboard", "Dashboard"), ("orders", "Orders"), ("payments", "Payments"), ("buyers", "Buyers"),
             ("tron", "TRON"), ("settings", "Catalog & settings"), ("distributors", "Distributors"),
             ("reports", "Reports"), ("operators", "Operators"))


def chrome(request: Any, session: Any, area: str, active: str = "") -> dict[str, Any]:
    from chalicelib.api.panel_session import base_path

    params = request.query_params or {}
    return {"base": base_path(request), "session": session, "area": area, "active": active,
            "csrf": session.csrf_token if session is not None else "", "nav": PANEL_NAV if area == "panel" else (),
            "flash": (params.get("ok") or "")[:200]}


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else _safe_cell(value) for value in row])
    return Response(body=buffer.getvalue(), status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _safe_cell(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula starts with a quote instead (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
