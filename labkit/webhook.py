"""A webhook receiver for the lab: where the reactor's alert notifications land.

A small HTTP server on the bridge address appends each JSON body it is POSTed to a file, one
per line, which the tests read. It runs as a process of its own in the lab's cgroup tree, so
``down`` stops it with the rest.
"""

import json
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from labkit import cgroups, paths

PORT = 8099
EVENTS = paths.RUN / "webhook" / "events.jsonl"
# Bodies larger than this are refused: a receiver for alerts, not for uploads.
MAX_BODY = 256 * 1024


def url():
    return f"http://{paths.GATEWAY}:{PORT}/alerts"


def events():
    """Every notification received so far, oldest first."""
    try:
        lines = EVENTS.read_text().splitlines()
    except OSError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the name http.server calls
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self.send_error(413 if length else 411)
            return
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            self.send_error(400, "not JSON")
            return
        with EVENTS.open("a") as out:
            out.write(json.dumps({"received": time.time(), **body}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


def serve():
    EVENTS.parent.mkdir(parents=True, exist_ok=True)
    EVENTS.touch()
    ThreadingHTTPServer((paths.GATEWAY, PORT), _Receiver).serve_forever()


def start():
    """Start the receiver in the background; return its URL once it listens."""
    EVENTS.parent.mkdir(parents=True, exist_ok=True)
    subprocess.Popen(
        [sys.executable, "-m", "labkit.webhook"],
        cwd=str(paths.REPO),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(EVENTS.parent / "receiver.log", "ab"),  # noqa: SIM115 - the child keeps it
        start_new_session=True,
        preexec_fn=lambda: cgroups.enter("webhook"),
    )
    return url()


if __name__ == "__main__":
    serve()
