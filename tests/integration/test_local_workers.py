"""The local stack's SQS workers against a real emulator server: Lambda's partial-batch semantics and the
dead-letter redrive of the queues infra/resources.yaml defines."""
from __future__ import annotations

import json
import threading
import time

import pytest

PREFIX = "tgshop-workers"
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "local", "aws_secret_access_key": "local"}


@pytest.fixture(scope="module")
def emulator():
    from devstack.emulator import AtomicMotoServer

    server = AtomicMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sqs(emulator):
    import boto3

    return boto3.client("sqs", endpoint_url=emulator, **CREDENTIALS)


@pytest.fixture
def queue(sqs, request):
    """A fresh queue with a one-second visibility timeout, so a failed record returns quickly."""
    name = f"{PREFIX}-{request.node.name[:40]}-{time.monotonic_ns()}"
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def send(sqs, url, *bodies):
    return [sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))["MessageId"] for body in bodies]


def counts(sqs, url) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def worker(sqs, url, handler, **options):
    from devstack.workers import SqsWorker

    return SqsWorker(sqs, url, handler, function_name="test_worker", wait_seconds=1, **options)


def test_only_records_not_reported_as_failed_are_deleted(sqs, queue):
    # Given three messages, one of which the handler reports as failed
    ids = send(sqs, queue, {"n": 1}, {"n": 2, "fail": True}, {"n": 3})
    events = []

    def handler(event, context):
        events.append(event)
        assert context.function_name == "test_worker" and context.get_remaining_time_in_millis() > 0
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]} for record in event["Records"]
                                      if json.loads(record["body"]).get("fail")]}

    # When the worker processes one batch
    outcome = worker(sqs, queue, handler).poll_once()

    # Then the handler saw a Lambda SQS event with distinct ids, and only the failed record stays
    records = events[0]["Records"]
    assert sorted(record["messageId"] for record in records) == sorted(ids)
    assert all(record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(queue.rsplit("/", 1)[1])
               and record["attributes"]["ApproximateReceiveCount"] == "1" and record["receiptHandle"]
               for record in records)
    assert outcome.failed == [ids[1]] and sorted(outcome.deleted) == sorted([ids[0], ids[2]])
    assert counts(sqs, queue) == (0, 1)

    # And it comes back after the visibility timeout, received a second time
    time.sleep(1.2)
    again = worker(sqs, queue, lambda event, context: events.append(event)).poll_once()
    assert again.deleted == [ids[1]]
    assert events[-1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert counts(sqs, queue) == (0, 0)


def test_a_handler_that_raises_keeps_the_whole_batch(sqs, queue):
    ids = send(sqs, queue, {"n": 1}, {"n": 2})

    def handler(event, context):
        raise RuntimeError("boom")

    outcome = worker(sqs, queue, handler).poll_once()

    assert outcome.deleted == [] and sorted(outcome.failed) == sorted(ids) and "boom" in outcome.error
    assert counts(sqs, queue) == (0, 2)


def test_an_identifier_outside_the_batch_fails_the_whole_batch(sqs, queue):
    send(sqs, queue, {"n": 1}, {"n": 2})

    outcome = worker(sqs, queue, lambda event, context: {
        "batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}).poll_once()

    assert outcome.deleted == [] and len(outcome.failed) == 2


def test_template_queues_redrive_to_their_dead_letter_queue_after_max_receive_count(emulator, sqs):
    import boto3

    from devstack.infra import create_resources

    # Given the queues exactly as infra/resources.yaml defines them (delivery: maxReceiveCount 5)
    dynamodb = boto3.client("dynamodb", endpoint_url=emulator, **CREDENTIALS)
    urls = create_resources(dynamodb, sqs, PREFIX)
    delivery, dlq = urls[f"{PREFIX}-delivery"], urls[f"{PREFIX}-delivery-dlq"]
    redrive = json.loads(sqs.get_queue_attributes(QueueUrl=delivery, AttributeNames=["RedrivePolicy"])
                         ["Attributes"]["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 5
    # (the template's 360 s visibility timeout would make this test wait half an hour)
    sqs.set_queue_attributes(QueueUrl=delivery, Attributes={"VisibilityTimeout": "0"})
    [message_id] = send(sqs, delivery, {"order_id": "poison"})
    receive_counts = []

    def always_fails(event, context):
        receive_counts.extend(int(record["attributes"]["ApproximateReceiveCount"]) for record in event["Records"])
        return {"batchItemFailures": [{"itemIdentifier": record["messageId"]} for record in event["Records"]]}

    # When the worker keeps failing it
    poison_worker = worker(sqs, delivery, always_fails)
    for _ in range(8):
        poison_worker.poll_once()
        if len(receive_counts) >= 5:
            break
    poison_worker.wait_seconds = 0
    poison_worker.poll_once()  # the sixth receive finds it over the limit and moves it

    # Then it was received five times and now sits in the dead-letter queue
    assert receive_counts == [1, 2, 3, 4, 5]
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)["Messages"]
    assert [json.loads(message["Body"]) for message in moved] == [{"order_id": "poison"}]
    assert counts(sqs, delivery) == (0, 0)


def test_a_running_worker_handles_messages_and_stops_promptly(sqs, queue):
    stop = threading.Event()
    handled = threading.Event()
    running = worker(sqs, queue, lambda event, context: handled.set(), stop=stop)
    running.start()
    send(sqs, queue, {"n": 1})

    assert handled.wait(5)
    stop.set()
    running.join(timeout=3)
    assert not running.is_alive()
    assert counts(sqs, queue) == (0, 0)
