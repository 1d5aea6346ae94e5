"""Server-rendered pages of the operator panel and the distributor portal: Jinja2 templates (autoescaped) and
a few static files (our stylesheet, charts, and the vendored uPlot chart library, MIT). The environment is
built on first use, so importing app.py does not import Jinja2."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice import Response

HERE = Path(__file__).resolve().parent
STATIC_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Pages never load anything from elsewhere; forms post only to us; nothing frames them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from chalicelib.domain.money import format_amount

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["usdt"] = lambda micros: "—" if micros is None else format_amount(int(micros), 2)
    env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M") if moment else "—"
    env.filters["trx"] = lambda sun: "—" if sun is None else format_amount(int(sun), 0)
    env.filters["count"] = lambda number: f"{int(number):,}"
    env.filters["percent"] = lambda share: f"{share * 100:.0f}%"
    return env


def render(template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    html = environment().get_template(template).render(**context)
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS, **(headers or {})})


@lru_cache(maxsize=8)
def static_file(name: str) -> tuple[str, str] | None:
    """(body, content type) of a file in static/, or None: only plain names with a known type are served."""
    path = HERE / "static" / name
    kind = STATIC_TYPES.get(path.suffix)
    if kind is None or "/" in name or name.startswith(".") or not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), kind
