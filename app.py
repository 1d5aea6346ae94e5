"""tgshop: wiring only. Every Lambda imports this module, so it stays cheap to import."""
from chalice import Chalice

from chalicelib.api import middleware
from chalicelib.api.admin import admin
from chalicelib.api.buyers import buyers
from chalicelib.api.consumers import consumers
from chalicelib.api.distributors import distributors
from chalicelib.api.health import health
from chalicelib.api.payments import payments
from chalicelib.api.redeem import redeem
from chalicelib.api.schedules import schedules
from chalicelib.api.telegram import telegram
from chalicelib.api.tron import tron

app = Chalice(app_name="tgshop")
middleware.install(app)
for blueprint in (health, buyers, payments, schedules, telegram, admin, distributors, redeem, consumers, tron):
    app.register_blueprint(blueprint)
