"""Start moto in server mode on 127.0.0.1 with the SSM session extension installed."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import time

from ssm_warden_local import moto_nodes, moto_sessions


class LocalAws:
    """A ThreadedMotoServer in this process on a free loopback port."""

    def __init__(self, port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        moto_sessions.install()
        moto_nodes.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request is noise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint_url = ""

    def start(self) -> LocalAws:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        _wait_for_port(host, port)
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every resource (moto's own reset plus the session store)."""
        import requests

        # Resetting every backend the suite touched takes seconds on a busy 2-core machine: a short
        # timeout here failed whole tests at setup for no fault of theirs.
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=60)
        moto_sessions.reset()
        moto_nodes.reset()


def _wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"moto server did not start on {host}:{port}")


def fake_credentials() -> None:
    """Credentials that can never reach a real account."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="moto server with the SSM session APIs")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    aws = LocalAws(args.port).start()
    print(f"moto server with SSM sessions on {aws.endpoint_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        aws.stop()


if __name__ == "__main__":
    main()
