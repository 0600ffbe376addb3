"""Twilio posts our numbers' and WhatsApp senders' messages to {PUBLIC_BASE_URL}/twilio/messages, as its API says.

Delivery reports: every reply names {PUBLIC_BASE_URL}/twilio/status itself, which wins over a sender's or
messaging service's default; a default that points elsewhere is still shown as wrong (it gets the reports
of messages sent without one, and usually means the setting was copied from another deployment). A
number's own `status_callback` is for calls, so it is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.clients.twilio_webhooks import MessagingService, Webhook, WebhookReader
from switchboard.errors import PermanentError, TransientError
from switchboard.operations.doctor.results import CheckResult, fail, ok, unknown
from switchboard.settings import Settings

# Twilio's WhatsApp sandbox: shared by every account, configured in the Console, absent from the Senders API.
SANDBOX = "whatsapp:+14155238886"


@dataclass(frozen=True)
class Expected:
    messages: str
    status: str

    @classmethod
    def at(cls, public_base_url: str) -> Expected:
        return cls(f"{public_base_url}/twilio/messages", f"{public_base_url}/twilio/status")


def check_twilio(reader: WebhookReader, settings: Settings) -> list[CheckResult]:
    numbers, service_sid = settings.served_numbers, settings.twilio_messaging_service_sid
    if settings.public_base_url is None:
        return [unknown("twilio webhooks", "PUBLIC_BASE_URL is unset: nothing to compare them with")]
    expected = Expected.at(settings.public_base_url)
    results: list[CheckResult] = []
    try:
        if service_sid:
            service = reader.messaging_service(service_sid)
            results += service_results(service, expected)
            if not service.defers_to_senders:
                return results  # the service's webhook takes every sender's messages
        if not numbers:
            return results + [unknown("twilio webhooks", "TWILIO_NUMBERS is unset: no number or sender to look at",
                                      "TWILIO_NUMBERS=whatsapp:+1…,+1… (the numbers this deployment answers)")]
        for address in numbers:
            results += address_results(reader, address, expected)
    except PermanentError as exc:
        return results + [refused(exc, service_sid)]
    except TransientError as exc:
        return results + [fail("twilio", str(exc), "check that this machine reaches api.twilio.com "
                                                   "(TWILIO_API_BASE_URL), then run doctor again")]
    return results


def address_results(reader: WebhookReader, address: str, expected: Expected) -> list[CheckResult]:
    if not address.startswith("whatsapp:"):
        number = reader.phone_number(address)
        if number is None:
            return [fail(f"webhook {address}", "not a phone number of this Twilio account",
                         "check TWILIO_NUMBERS and TWILIO_ACCOUNT_SID")]
        return [webhook_result(number, expected, f"Console → Phone Numbers → {address} → Messaging")]
    try:
        sender = reader.whatsapp_sender(address)
    except PermanentError as exc:
        if exc.code in (401, 403):
            raise
        return [unknown(f"webhook {address}", f"cannot read WhatsApp senders ({exc})")]
    if sender is None and address == SANDBOX:
        return [unknown(f"webhook {address}", "Twilio's WhatsApp sandbox: its webhook is not in the API",
                        f"Console → Messaging → Try it out → WhatsApp sandbox settings: {expected.messages} (POST)")]
    if sender is None:
        return [fail(f"webhook {address}", "not a WhatsApp sender of this Twilio account (Senders API)",
                     "check TWILIO_NUMBERS, or register the sender: Console → Messaging → Senders")]
    where = f"Console → Messaging → Senders → WhatsApp senders → {address}"
    return [webhook_result(sender, expected, where), status_result(sender.address, sender.status_callback,
                                                                   expected, where)]


def service_results(service: MessagingService, expected: Expected) -> list[CheckResult]:
    where = f"Console → Messaging → Services → {service.sid} → Integration"
    if service.defers_to_senders:
        inbound = ok(f"webhook {service.sid}", "the messaging service defers to each sender's own webhook")
    else:
        inbound = webhook_result(Webhook(service.sid, service.url, service.method, None), expected, where)
    return [inbound, status_result(service.sid, service.status_callback, expected, where)]


def webhook_result(hook: Webhook, expected: Expected, where: str) -> CheckResult:
    check, fix = f"webhook {hook.address}", f"{where}: {expected.messages}, HTTP POST"
    if hook.application_sid:
        return fail(check, f"messages go to the TwiML app {hook.application_sid}, not to a webhook", fix)
    if hook.url is None:
        return fail(check, "no incoming-message webhook: Twilio drops what users send", fix)
    # A query string is fine: Twilio signs the whole URL and the webhook checks it the same way.
    if hook.url.partition("?")[0] != expected.messages:
        return fail(check, f"incoming messages go to {hook.url}, not {expected.messages}", fix)
    if (hook.method or "POST").upper() != "POST":
        return fail(check, f"{hook.url} is called with HTTP {hook.method}; the webhook takes POST", fix)
    return ok(check, f"{hook.url} (POST)")


def status_result(address: str, default: str | None, expected: Expected, where: str) -> CheckResult:
    check = f"status callback {address}"
    if default is not None and default.partition("?")[0] != expected.status:
        return fail(check, f"delivery reports default to {default}, not {expected.status}",
                    f"{where}: set the status callback to {expected.status}, or clear it")
    return ok(check, f"{expected.status}: each reply asks for it" + (", and so does the default" if default else ""))


def refused(exc: PermanentError, service_sid: str | None) -> CheckResult:
    if exc.code in (401, 403):
        return fail("twilio credentials", f"Twilio refused TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN (HTTP {exc.code})",
                    "copy both from the Console (Account → API keys & tokens)")
    if exc.code == 404 and service_sid:
        return fail("twilio messaging service", f"{service_sid} is not a messaging service of this account",
                    "check TWILIO_MESSAGING_SERVICE_SID")
    return fail("twilio", str(exc), "see https://www.twilio.com/docs/errors for the code")
