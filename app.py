"""tgshop: wiring only. Every Lambda imports this module, so it stays cheap to import."""
from chalice import Chalice

from chalicelib.api import middleware
from chalicelib.api.admin import admin
from chalicelib.api.alarms import alarms
from chalicelib.api.buyers import buyers
from chalicelib.api.consumers import consumers
from chalicelib.api.docs import docs
from chalicelib.api.distributors import distributors
from chalicelib.api.health import health
from chalicelib.api.payments import payments
from chalicelib.api.redeem import redeem
from chalicelib.api.schedules import schedules
from chalicelib.api.telegram import telegram
from chalicelib.api.tron import tron

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
