"""Run the fake Koha on its own, for benches: `python -m tests.fake_koha --patrons 100000 --port 8081`.

Prints the base URL and the OAuth2 client to use, then serves until interrupted.
"""

import argparse
import contextlib
import os
import signal
import threading
import time

from tests.fake_koha.server import FakeKoha


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_koha", description=__doc__)
    parser.add_argument("--patrons", type=int, default=0, help="patrons to seed (fast bulk)")
    parser.add_argument("--port", type=int, default=8081, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--identity-codes", action="store_true", help="give each patron an SSN attribute")
    parser.add_argument("--library", default="MPL", help="library_id of the seeded patrons")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--basic", action="store_true", help="accept Basic authentication (RESTBasicAuth on)")
    arguments = parser.parse_args()

    fake = FakeKoha(port=arguments.port)
    fake.client_secret = os.environ.get("KOHA_CLIENT_SECRET", fake.client_secret)
    fake.basic_auth_enabled = arguments.basic
    fake.delay = arguments.delay
    started = time.monotonic()
    fake.seed(arguments.patrons, library_id=arguments.library, identity_codes=arguments.identity_codes)
    seeded = time.monotonic() - started
    fake.start()
    print(
        f"fake Koha at {fake.base_url}/api/v1 with {arguments.patrons} patrons (seeded in {seeded:.1f} s)", flush=True
    )
    print(f"client_id={fake.client_id} client_secret={fake.client_secret}", flush=True)
    if arguments.basic:
        print(f"basic_user={fake.basic_user} basic_password={fake.basic_password}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    fake.down()


if __name__ == "__main__":
    main()
