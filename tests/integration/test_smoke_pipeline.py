"""The pipeline answers a signed message end to end: gunicorn → moto SQS → celery worker → stand-ins."""

import pytest

from tests.harness.pipeline import Stack, new_user

pytestmark = pytest.mark.integration


def test_a_message_gets_an_answer_through_every_real_part(stack: Stack) -> None:
    user = new_user()
    status, body = stack.send("hello", user)
    assert status == 200 and "<Response" in body
    assert stack.wait_for_replies(user, 1) == ["echo: hello"]
