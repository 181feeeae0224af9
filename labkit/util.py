"""Small helpers shared by the lab's modules: errors, logging, running commands."""

import subprocess
import sys
import time


class LabError(Exception):
    """A fault the operator can act on; the CLI prints it as one line and exits non-zero."""


def log(message):
    print(f"lab: {message}", file=sys.stderr, flush=True)


def run(cmd, check=True, **kwargs):
    """Run ``cmd`` (a list) and return the CompletedProcess; raise LabError when it fails."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    result = subprocess.run(cmd, **kwargs)
    if check and result.returncode != 0:
        err = (result.stderr or result.stdout or "").strip().splitlines()
        raise LabError(f"{' '.join(map(str, cmd))} failed: {err[-1] if err else result.returncode}")
    return result


class Phase:
    """Context manager that prints a phase of the lab's work with the time it took."""

    def __init__(self, name):
        self.name = name
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.seconds = time.monotonic() - self.started
        status = "ok" if exc_type is None else "FAILED"
        log(f"{self.name}: {status} in {self.seconds:.1f} s")
        return False
