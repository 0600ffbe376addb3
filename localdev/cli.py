"""`python -m localdev dev` (the whole pipeline here, and a chat with it), `chat`, and `with-redis` (for scripts/test)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any


def _chat(args: argparse.Namespace) -> int:
    from localdev.chat import ChatSession
    from localdev.local_env import SECRETS_FILE, read_dotenv

    # `python -m localdev dev` made a random token for this checkout; chat signs with the same one.
    auth_token = args.auth_token or os.environ.get("TWILIO_AUTH_TOKEN") or read_dotenv(SECRETS_FILE).get(
        "TWILIO_AUTH_TOKEN")
    if not auth_token:
        raise SystemExit("no auth token: run `python -m localdev dev` first, or pass --auth-token / set TWILIO_AUTH_TOKEN")
    session = ChatSession(
        webhook_url=args.url.rstrip("/") + "/twilio/messages",
        twilio_standin_url=args.twilio_url,
        account_sid=os.environ.get("TWILIO_ACCOUNT_SID", args.account_sid),
        auth_token=auth_token,
        user=args.user,
    )
    session.run()
    return 0


def _dev(args: argparse.Namespace) -> int:
    from localdev.chat import ChatSession
    from localdev.local_stack import LocalStack, StartFailed
    from localdev.ports import PortTaken
    from localdev.redis_server import RedisUnavailable

    stack = LocalStack()
    # A `kill` or a closed terminal must stop the stack too, not orphan moto, gunicorn and the workers.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    try:
        stack.start()
        env = stack.env
        print("Switchboard is running.")
        if env.get("OPENAI_API_KEY") == "offline":
            print("No OPENAI_API_KEY set: answers come from the built-in offline responder.")
        if args.no_chat:
            print("Press Ctrl-C to stop.")
            stack.processes[-1].wait()
            return 0
        print("Type a message and press Enter; Ctrl-D to stop.")
        ChatSession(
            webhook_url=f"http://127.0.0.1:{env['PORT']}/twilio/messages",
            twilio_standin_url=env["TWILIO_API_BASE_URL"],
            account_sid=env["TWILIO_ACCOUNT_SID"],
            auth_token=env["TWILIO_AUTH_TOKEN"],
            user=args.user,
        ).run()
    except KeyboardInterrupt:
        pass
    except (StartFailed, PortTaken, RedisUnavailable) as exc:
        print(f"  \N{HEAVY BALLOT X} {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


def _with_redis(args: argparse.Namespace) -> int:
    from localdev.ports import PortTaken
    from localdev.redis_server import RedisUnavailable
    from localdev.with_redis import run_with_redis

    command = args.command_line[1:] if args.command_line[:1] == ["--"] else args.command_line
    if not command:
        raise SystemExit("with-redis: no command given (python -m localdev with-redis -- COMMAND…)")
    try:
        return run_with_redis(command)
    except (RedisUnavailable, PortTaken) as exc:
        raise SystemExit(f"with-redis: {exc}") from exc


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def register(commands: Any) -> None:
    dev = commands.add_parser("dev", help="run the whole pipeline locally and chat with it")
    dev.add_argument("--no-chat", action="store_true", help="only run the pipeline")
    dev.add_argument("--user", default="whatsapp:+15550000001", help="who you are in the chat")
    dev.set_defaults(run=_dev)

    chat = commands.add_parser("chat", help="chat with a running pipeline through the local Twilio stand-in")
    chat.add_argument("--url", default="http://127.0.0.1:8000", help="the web process")
    chat.add_argument("--twilio-url", default="http://127.0.0.1:8901", help="the Twilio stand-in")
    chat.add_argument("--user", default="whatsapp:+15550000001")
    chat.add_argument("--account-sid", default="AC" + "0" * 31 + "1")
    chat.add_argument("--auth-token", help="default: TWILIO_AUTH_TOKEN, else the one `python -m localdev dev` made")
    chat.set_defaults(run=_chat)

    with_redis = commands.add_parser("with-redis", help="run a command with a Redis to test against (scripts/test)")
    with_redis.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- COMMAND")
    with_redis.set_defaults(run=_with_redis)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
