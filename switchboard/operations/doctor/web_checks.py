"""PUBLIC_BASE_URL is set and Switchboard's web answers there: the address Twilio posts to and signs."""

from __future__ import annotations

from collections.abc import Callable

from switchboard.operations.doctor.results import CheckResult, fail, ok, unknown
from switchboard.settings import Settings

CHECK = "PUBLIC_BASE_URL"


def check_public_base_url(settings: Settings, probe: Callable[[str], int | None]) -> CheckResult:
    base = settings.public_base_url
    if base is None:
        if settings.on_aws:
            return fail(CHECK, "unset: replies ask for no delivery reports, and the webhooks cannot be compared "
                               "with anything", "PUBLIC_BASE_URL=https://bot.example.com (the address Twilio posts to)")
        return unknown(CHECK, "unset (a local run?): Twilio's webhooks are not compared",
                       "PUBLIC_BASE_URL=http://127.0.0.1:8000 for the local stack")
    if settings.on_aws and not base.startswith("https://"):
        return fail(CHECK, f"{base} is not https: Twilio would post every message unencrypted",
                    "put TLS on the load balancer and set PUBLIC_BASE_URL=https://…")
    status = probe(f"{base}/healthz")
    if status == 200:
        return ok(CHECK, f"{base}/healthz answers 200")
    seen = "nothing answers" if status is None else f"HTTP {status}, not Switchboard's 200"
    return fail(CHECK, f"{base}/healthz: {seen} (from this machine), so Twilio cannot deliver webhooks there",
                "run web behind the load balancer at that address, or correct PUBLIC_BASE_URL")
