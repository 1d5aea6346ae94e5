"""tgshop: wiring only. Every Lambda imports this module, so it stays cheap to import."""
from chalice import Chalice

from chalicelib.api import middleware
from chalicelib.api.alerts import alerts
from chalicelib.api.buyers import buyers
from chalicelib.api.health import health
from chalicelib.api.payments import payments
from chalicelib.api.telegram import telegram
from chalicelib.api.workers import workers
from chalicelib.api.admin import admin
from chalicelib.api.distributors import distributors
from chalicelib.api.consumers import consumers
from chalicelib.api.redeem import redeem

app = Chalice(app_name="tgshop")
middleware.install(app)
for blueprint in (health, buyers, payments, workers, telegram, alerts):
    app.register_blueprint(blueprint)
for blueprint in (admin, distributors, redeem, consumers):
    app.register_blueprint(blueprint)
