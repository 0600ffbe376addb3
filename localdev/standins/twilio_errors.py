"""Twilio's error responses: the legacy JSON shape the SDK turns into TwilioRestException."""

from __future__ import annotations

from flask import Response, jsonify

# Twilio's wording for the codes the stand-in produces or tests commonly inject.
ERROR_MESSAGES = {
    20001: "Invalid parameter",
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21654: "ContentSid Required",
    21655: "The ContentSid is Invalid",
    21656: "The ContentVariables Parameter is invalid",
    63016: "Failed to send freeform message because you are outside the allowed window.",
    63018: "Rate limit exceeded for Channel",
}
_CODE_FOR_STATUS = {401: 20003, 404: 20404, 429: 20429}


def twilio_error(status: int, code: int | None = None, message: str | None = None) -> Response:
    """Twilio's legacy error body; the SDK turns it into TwilioRestException(status, code)."""
    code = code or _CODE_FOR_STATUS.get(status, 20500 if status >= 500 else 20001)
    # No "type"/"title" keys: with those the SDK raises TwilioServiceException (RFC 9457) instead.
    response = jsonify(
        {
            "code": code,
            "message": message or ERROR_MESSAGES.get(code, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    )
    response.status_code = status
    return response
