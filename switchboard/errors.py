"""Our own small exception vocabulary: vendor errors are converted to these at the wrapper boundary."""


class TransientError(Exception):
    """Worth retrying: the same call may succeed later (rate limit, timeout, 5xx, connection)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Backpressure(TransientError):
    """A limit said "not now" before anything was done (Twilio's rate limits, our shared Twilio request
    slots): the same attempt comes back after `retry_after`, without using up the message's attempts,
    because waiting out a limit is no failure of the message. Saturation shows as backlog, not give-ups.
    """


class PermanentError(Exception):
    """Not worth retrying: the same call will fail the same way (bad request, unsubscribed user)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class NotYourTurn(Exception):
    """An earlier message of the same conversation is not finished yet; try again shortly.

    `retry_after` says when there is something to look at again (a burst's quiet window ends in
    1.4 s); None means "shortly" (the task's TURN_WAIT_SECONDS).
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConfigurationFault(Exception):
    """Our own setup is wrong (e.g. a rotated Twilio token): keep the work, alert, and retry slowly.

    Neither transient (it will not pass by itself, so it must not use up the normal retries and be
    given up) nor permanent (the same call works once an operator fixes the setting).
    """
