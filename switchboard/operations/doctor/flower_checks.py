"""Flower asks for credentials on AWS: what it answers without them, and what its environment configures.

The variables are flowerconfig.py's (which cannot be imported here: it loads Celery and refuses at import).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from switchboard.operations.doctor.results import CheckResult, fail, ok, unknown

CHECK = "flower access"
OAUTH_VARIABLES = ("FLOWER_AUTH", "FLOWER_AUTH_PROVIDER", "FLOWER_OAUTH2_KEY", "FLOWER_OAUTH2_SECRET")
_TRUE = ("1", "true", "yes", "on")
PROTECT = ("set FLOWER_BASIC_AUTH=user:password (or Flower's OAuth variables) in flower's environment, unset "
           "FLOWER_UNAUTHENTICATED, and restart it")


def flower_url(env: Mapping[str, str]) -> str:
    """Where flowerconfig.py makes Flower listen (an address of all interfaces is reached on loopback)."""
    address = env.get("FLOWER_ADDRESS") or "127.0.0.1"
    host = "127.0.0.1" if address in ("0.0.0.0", "::", "") else address
    return f"http://{host}:{env.get('FLOWER_PORT') or '5555'}"


def configured_auth(env: Mapping[str, str]) -> str:
    """'basic', 'oauth', 'open' (FLOWER_UNAUTHENTICATED) or 'none' (flowerconfig.py then refuses to start)."""
    if any(item for item in env.get("FLOWER_BASIC_AUTH", "").split(",")):
        return "basic"
    if all(env.get(name) for name in OAUTH_VARIABLES):
        return "oauth"
    if env.get("FLOWER_UNAUTHENTICATED", "").strip().lower() in _TRUE:
        return "open"
    return "none"


def check_flower(env: Mapping[str, str], on_aws: bool, url: str, probe: Callable[[str], int | None]) -> CheckResult:
    """What Flower at `url` answers decides; when nothing answers there, what this environment would start."""
    status, auth = probe(url + "/"), configured_auth(env)
    if status in (401, 403) or (status is not None and 300 <= status < 400):  # basic auth; OAuth's login page
        return ok(CHECK, f"{url} asks for credentials (HTTP {status})")
    if status == 200:
        if on_aws:
            return fail(CHECK, f"{url} answers without credentials: anyone who reaches it sees every task's "
                               "arguments and tracebacks", PROTECT)
        return ok(CHECK, f"{url} is open: fine for a local run (FLOWER_UNAUTHENTICATED), refused on AWS")
    if on_aws and auth == "open":
        return fail(CHECK, f"nothing answers at {url}, but this environment sets FLOWER_UNAUTHENTICATED: a Flower "
                           "started with it runs open", PROTECT)
    seen = "nothing answers" if status is None else f"HTTP {status}"
    would = {"basic": "would ask for a password", "oauth": "would ask for an OAuth login",
             "open": "would run open (local use only)", "none": "would refuse to start (no authentication)"}[auth]
    return unknown(CHECK, f"{seen} at {url}; a Flower started with this environment {would}",
                   "pass --flower-url where Flower listens to check the running one")
