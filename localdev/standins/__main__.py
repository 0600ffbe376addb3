"""Run a stand-in as a process: `python -m localdev.standins twilio|openai --port N`."""

from __future__ import annotations

import argparse
import os
import sys

from localdev.standins.openai_api import create_openai_standin
from localdev.standins.serving import serve_forever
from localdev.standins.twilio_api import create_twilio_standin
from localdev.standins.twilio_numbers import configure_numbers


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localdev.standins", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True)

    twilio = kinds.add_parser("twilio", help="the Twilio Messages API")
    twilio.add_argument("--port", type=int, default=8901, help="0 picks a free port (printed on start)")
    twilio.add_argument("--host", default="127.0.0.1")
    # Defaults from the same variables the app reads, so a dev run needs no duplicated secrets.
    twilio.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID"))
    twilio.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    # The deployment's own numbers, their webhooks pointing at it as its Twilio numbers' would (`switchboard doctor`).
    twilio.add_argument("--numbers", default=os.environ.get("TWILIO_NUMBERS", ""), help="comma-separated")
    twilio.add_argument("--public-base-url", default=os.environ.get("PUBLIC_BASE_URL"))

    openai = kinds.add_parser("openai", help="the OpenAI Chat Completions API")
    openai.add_argument("--port", type=int, default=8902, help="0 picks a free port (printed on start)")
    openai.add_argument("--host", default="127.0.0.1")
    openai.add_argument("--offline", action="store_true", help="answer with a canned 'offline mode' reply")
    openai.add_argument("--api-key", default=None, help="accept only this bearer key (default: any)")

    args = parser.parse_args(argv)
    if args.kind == "twilio" and not (args.account_sid and args.auth_token):
        parser.error("twilio needs --account-sid and --auth-token (or TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.kind == "twilio":
        app = create_twilio_standin(args.account_sid, args.auth_token)
        if args.public_base_url:
            configure_numbers(app, [n.strip() for n in args.numbers.split(",") if n.strip()], args.public_base_url)
    else:
        app = create_openai_standin(offline=args.offline, api_key=args.api_key)
    serve_forever(app, args.host, args.port, label=args.kind)


if __name__ == "__main__":
    main()
