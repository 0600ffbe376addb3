"""The SQS FIFO group and deduplication id of a pipeline message: one builder for the tasks, the relay and the redrive."""

from typing import TypedDict


class FifoOptions(TypedDict, total=False):
    """SendMessage's FIFO keywords (spelled as boto3 and kombu's SQS transport take them); empty on standard queues."""

    MessageGroupId: str
    MessageDeduplicationId: str


def fifo_options(fifo: bool, message_sid: str, conversation: str, step: str) -> FifoOptions:
    """Group by conversation, so its messages are delivered in order; deduplicate by message and step.

    `step` names the publish: the stage for a first publish, and something fresh for each retry,
    owed generation or redrive, so SQS (which remembers deduplication ids for five minutes) does
    not drop it as a copy of an earlier publish. Standard queues take neither option.
    """
    if not fifo:
        return {}
    return {"MessageGroupId": conversation, "MessageDeduplicationId": f"{message_sid}-{step}"}
