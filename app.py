"""tgshop: wiring only. Every Lambda imports this module, so it stays cheap to import."""
from chalicelib import cold_start

cold_start.hold_collection()  # first: no collection walks what the cold start builds (chalicelib/cold_start.py)

from chalice import Chalice  # noqa: E402

from chalicelib.api import middleware  # noqa: E402
from chalicelib.api.admin import admin  # noqa: E402
from chalicelib.api.alarms import alarms  # noqa: E402
from chalicelib.api.buyers import buyers  # noqa: E402
from chalicelib.api.consumers import consumers  # noqa: E402
from chalicelib.api.docs import docs  # noqa: E402
from chalicelib.api.distributors import distributors  # noqa: E402
from chalicelib.api.health import health  # noqa: E402
from chalicelib.api.payments import payments  # noqa: E402
from chalicelib.api.redeem import redeem  # noqa: E402
from chalicelib.api.schedules import schedules  # noqa: E402
from chalicelib.api.telegram import telegram  # noqa: E402
from chalicelib.api.tron import tron  # noqa: E402

app = Chalice(app_name="tgshop")
middleware.install(app)
for blueprint in (health, buyers, payments, schedules, telegram, admin, distributors, redeem, consumers,
                  docs, alarms, tron):
    app.register_blueprint(blueprint)

# The operator panel and the distributor portal (server-rendered pages; Jinja2 is imported on first render).
from chalicelib.api.admin_desks import admin_desks  # noqa: E402
from chalicelib.api.panel import panel  # noqa: E402
from chalicelib.api.panel_actions import panel_actions  # noqa: E402
from chalicelib.api.panel_exports import panel_exports  # noqa: E402
from chalicelib.api.panel_sign_in import panel_sign_in  # noqa: E402
from chalicelib.api.panel_tron import panel_tron  # noqa: E402
from chalicelib.api.portal import portal  # noqa: E402

for blueprint in (admin_desks, panel, panel_actions, panel_exports, panel_sign_in, panel_tron, portal):
    app.register_blueprint(blueprint)

# Stars and the Mini App storefront (issue 13)
from chalicelib.api.cors import cors_middleware  # noqa: E402
from chalicelib.api.stars_admin import stars_admin  # noqa: E402
from chalicelib.api.storefront import storefront  # noqa: E402

app.register_middleware(cors_middleware, "http")
app.register_blueprint(storefront)
app.register_blueprint(stars_admin)
