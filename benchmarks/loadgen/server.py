"""gunicorn serving Kinfolk on a free loopback port, and the ``kinfolk`` set-up commands."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"  # the only address the benchmark ever sends traffic to


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: have Linux stop gunicorn if the benchmark itself is killed."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Server:
    """gunicorn serving Kinfolk in its own process group, stopped (and if need be killed) at exit."""

    def __init__(self, env: dict[str, str], port: int, options: argparse.Namespace, log_path: Path):
        self.env, self.port, self.options, self.log_path = env, port, options, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "kinfolk.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.options.workers),
            "--worker-class",
            self.options.worker_class,
            "--threads",
            str(self.options.threads),
            "--graceful-timeout",
            "5",
            "--timeout",
            "60",
            "--backlog",
            "2048",
        ]
        from gunicorn.config import KNOWN_SETTINGS

        if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
            command.append("--no-control-socket")
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (this process runs no threads yet)
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                url = f"http://{HOST}:{self.port}/health/"
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def worker_pids(self) -> list[int]:
        """Return the pids of gunicorn's workers (the master's children)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in path.read_text().split()]
        return []

    def cpu_seconds(self) -> float:
        """Return the CPU time the workers have used so far (user and system)."""
        total = 0
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # The group is gunicorn's own (start_new_session): its master and workers only.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_step(env: dict[str, str], *args: str) -> float:
    """Run ``python -m kinfolk <args>``; return how long it took."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "kinfolk", *args], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.monotonic() - started
