"""The floors a webhook ack is compared with, served under the Procfile's gunicorn settings.

    gunicorn "bench.floor_app:create_app()" --config bench/floor_gunicorn.py   (the bench builds the line from the Procfile's `web`)

`POST /null` answers 200 and does nothing else: the HTTP floor (gunicorn, Flask, loopback, the load
generator). `POST /send` makes exactly one SQS SendMessage to the same moto, with a plain boto3
client created and connected (queue URL looked up, one message sent) when the worker boots, before
any traffic: the floor of "put the message on the queue, then answer". Its message has the size of
the webhook's Celery message and the same FIFO group and deduplication fields.

Environment: FLOOR_SQS_ENDPOINT, FLOOR_QUEUE_NAME (a FIFO queue that exists), AWS_REGION,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, FLOOR_BODY_BYTES (default 1500).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import boto3
from botocore.config import Config
from flask import Flask, Response, request

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def create_app() -> Flask:
    sqs: Any = boto3.client(
        "sqs",
        endpoint_url=os.environ["FLOOR_SQS_ENDPOINT"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "bench"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "bench"),
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1},
                      max_pool_connections=32),
    )
    queue_url = sqs.get_queue_url(QueueName=os.environ["FLOOR_QUEUE_NAME"])["QueueUrl"]
    payload = "x" * int(os.environ.get("FLOOR_BODY_BYTES", "1500"))
    # One real send at boot, so the connection is open and botocore's first-call work is done.
    sqs.send_message(QueueUrl=queue_url, MessageBody=payload, MessageGroupId="boot",
                     MessageDeduplicationId=uuid.uuid4().hex)

    app = Flask(__name__)

    @app.post("/null")
    def null() -> Response:
        return Response(EMPTY_TWIML, status=200, mimetype="text/xml")

    @app.post("/send")
    def send() -> Response:
        sqs.send_message(
            QueueUrl=queue_url, MessageBody=payload,
            MessageGroupId=request.form.get("From", "floor"),
            MessageDeduplicationId=request.form.get("MessageSid") or uuid.uuid4().hex,
        )
        return Response(EMPTY_TWIML, status=200, mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok\n", 200

    return app
