"""Logical queue names (the deployed name is "<resource prefix>-<name>", infra/resources.yaml). Kept apart
from the product modules so that importing the app, which names the queues of its SQS consumers, stays
cheap."""

DELIVERY_QUEUE = "delivery"
FULFILLMENT_QUEUE = "fulfillment"
