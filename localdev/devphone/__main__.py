"""Run the dev phone: `python -m localdev.devphone [--port N]`, in the environment the pipeline runs with.

It reads the pipeline's own settings (the auth token it signs with, Redis and the key prefix it
reads records from, PUBLIC_BASE_URL) and these local-run variables: PORT (the web process, where it
posts), TWILIO_API_BASE_URL (the Twilio stand-in, where it uploads media and reads replies),
FLOWER_PORT and FLOWER_BASIC_AUTH (Flower, for task links and times), LOCAL_DEVPHONE_PORT (its own port).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from werkzeug.serving import make_server

from localdev.chat import BOT_NUMBER, ChatSession
from localdev.devphone.app import create_devphone_app
from localdev.devphone.composer import upload_directory
from localdev.devphone.flower import Flower
from localdev.devphone.phone import DevPhone
from switchboard.services import build_store
from switchboard.settings import get_settings

DEFAULT_PORT = 8904


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.devphone", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_DEVPHONE_PORT") or DEFAULT_PORT),
                        help="0 picks a free port (printed on start)")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    settings = get_settings()
    # Signed for the URL the web checks signatures against: PUBLIC_BASE_URL's when set (web/signature.py).
    base = settings.public_base_url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    webhook_url = f"{base}/twilio/messages"
    chat = ChatSession(webhook_url, settings.twilio_api_base_url, settings.twilio_account_sid,
                       settings.twilio_auth_token.get_secret_value(), user="")
    flower_url = f"http://127.0.0.1:{os.environ.get('FLOWER_PORT', '5555')}"
    user, _, password = (os.environ.get("FLOWER_BASIC_AUTH") or "").split(",")[0].partition(":")
    uploads = upload_directory(Path(tempfile.mkdtemp(prefix="devphone-")))
    phone = DevPhone(chat, build_store(settings), Flower(flower_url, (user, password) if password else None), uploads)
    app = create_devphone_app(phone, {"flower_url": flower_url, "webhook_url": webhook_url, "bot": BOT_NUMBER})
    server = make_server(args.host, args.port, app, threaded=True)
    # The local stack stops its children with SIGTERM: leave as on Ctrl-C, removing the uploads.
    signal.signal(signal.SIGTERM, _interrupt)
    phone.tracker.start()
    print(f"dev phone listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        phone.tracker.stop()
        server.server_close()
        shutil.rmtree(uploads, ignore_errors=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    main()
