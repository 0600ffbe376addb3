"""The vendors' host: the Twilio and OpenAI stand-ins over https, in one process.

    python -m tests.multihost.vendors --host 10.77.N.2 --cert C --key K --account-sid AC… --auth-token …

Prints one "<kind> stand-in listening on https://…" line per stand-in once it accepts connections.
"""

from __future__ import annotations

import argparse
import ssl
import threading

from werkzeug.serving import make_server

from localdev.standins.openai_api import create_openai_standin
from localdev.standins.twilio_api import create_twilio_standin

TWILIO_PORT, OPENAI_PORT = 8901, 8902


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.multihost.vendors", description=__doc__)
    for option in ("--host", "--cert", "--key", "--account-sid", "--auth-token"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    apps = {"twilio": (create_twilio_standin(args.account_sid, args.auth_token), TWILIO_PORT),
            "openai": (create_openai_standin(), OPENAI_PORT)}
    threads = []
    for kind, (app, port) in apps.items():
        # threaded: a stalled completion (the test's injected latency) must not hold up the next request.
        server = make_server(args.host, port, app, threaded=True)
        # TLS handshakes in each request's thread, not in accept(): werkzeug's own ssl_context handshakes in
        # the accepting thread, so one client cut off mid-handshake (the cut host) stalled every later one.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        server.ssl_context = context  # what werkzeug reads for wsgi.url_scheme
        threads.append(threading.Thread(target=server.serve_forever, name=f"{kind}-standin"))
        threads[-1].start()
        print(f"{kind} stand-in listening on https://{args.host}:{port}", flush=True)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
