"""tgshop: wiring only. Every Lambda imports this module, so it stays cheap to import."""
from chalice import Chalice

from chalicelib.api import middleware
from chalicelib.api.buyers import buyers
from chalicelib.api.health import health
from chalicelib.api.payments import payments
from chalicelib.api.workers import workers

app = Chalice(app_name="tgshop")
middleware.install(app)
for blueprint in (health, buyers, payments, workers):
    app.register_blueprint(blueprint)
