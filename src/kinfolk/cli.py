"""The ``kinfolk`` command.

``kinfolk serve`` runs the site with gunicorn and a Huey consumer side by side, ``kinfolk worker``
runs the consumer alone, ``kinfolk demo`` builds the demo shops, ``kinfolk import`` brings a
shop's history in (``kinfolk.crm.imports.command``); every other command (``migrate``,
``createsuperuser``, ``shell``, ...) is Django's own management command of the same name.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

USAGE = """\
usage: kinfolk <command> [options]

  serve      run the site with gunicorn and a background worker (kinfolk serve --help)
  worker     run the background worker (Huey consumer) alone
  demo       build demo shops, products and accounts
  clv        fit purchase and spend models to a CSV of transactions (kinfolk clv fit --help)
  import     import a shop's history from Shopify, Bandcamp or a CSV (kinfolk import --help)
  <other>    any Django management command: migrate, createsuperuser, shell, ...
"""

# How long the children get to finish what they are doing after a stop signal, before SIGKILL.
STOP_TIMEOUT = 20.0
# How long gunicorn gets to start listening before the logins are printed anyway.
READY_TIMEOUT = 30.0


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``kinfolk`` command with ``argv`` (``sys.argv[1:]`` by default) and exit."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kinfolk.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    command, rest = (args[0], args[1:]) if args else ("help", [])

    if command == "serve":
        try:
            sys.exit(serve(rest))
        except KeyboardInterrupt:
            # Ctrl-C during migrate or collectstatic, before anything was started.
            sys.exit(130)
    if command == "clv":
        # Pure NumPy/SciPy: no Django settings or database needed.
        from kinfolk.clv.cli import main as clv_main

        sys.exit(clv_main(rest))
    if command == "import":
        from kinfolk.crm.imports.command import main as import_main

        sys.exit(import_main(rest))
    if command in {"help", "-h", "--help"} and not rest:
        print(USAGE)
        _django(["help"])
        return
    if command == "worker":
        _django(["run_huey", *rest])
    elif command == "demo":
        _django(["demo", *rest])
    else:
        _django(args)


def _django(args: list[str]) -> None:
    """Run a Django management command the way ``django-admin`` would.

    Going through ``execute_from_command_line`` rather than ``call_command`` keeps each command's
    own ``--help``, option parsing and readable ``CommandError`` messages.
    """
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kinfolk", *args])


# --- serve -----------------------------------------------------------------------------------


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kinfolk serve",
        description=(
            "Apply migrations, collect static files, then serve the site with gunicorn and run "
            "a Huey consumer beside it. Ctrl-C (SIGINT) or SIGTERM stops both."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (default: %(default)s)"
    )
    # Two threads: a second request's I/O (database, socket) overlaps the first's Python work,
    # while more threads only queue on the interpreter lock. Measured with
    # benchmarks/storefront.py on 2 workers: 2 threads served the most product pages and orders
    # per second; 4, 8 and 16 fewer, and the sync worker (no keep-alive) fewer still.
    parser.add_argument(
        "--threads", type=int, default=2, help="threads per gunicorn worker (default: %(default)s)"
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="do not start the background worker"
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request to standard output"
    )
    return parser


def serve(argv: Sequence[str]) -> int:
    """Serve the site until a stop signal or until a child dies; return the exit status."""
    options = _serve_parser().parse_args(argv)
    # A shell starts background jobs with SIGINT ignored; a stop signal must stop the start-up too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Where this machine reaches the server: a wildcard address is reached through loopback.
    local_host = "127.0.0.1" if options.host in {"0.0.0.0", "::", ""} else options.host
    host_in_url = f"[{local_host}]" if ":" in local_host else local_host
    if _accepts((local_host, options.port)):
        print(
            f"kinfolk serve: something already listens on port {options.port} "
            f"(another kinfolk serve?); stop it or choose another --port",
            file=sys.stderr,
        )
        return 1
    # Settings read these, so they are set before Django starts, here and in both children.
    os.environ.setdefault("KINFOLK_BASE_URL", f"http://{host_in_url}:{options.port}")

    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    # The children must use the same data folder even if one of them changes directory.
    os.environ.setdefault("KINFOLK_DATA_DIR", str(settings.DATA_DIR))
    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()

    commands = {"web": _gunicorn_command(options)}
    if not options.no_worker:
        commands["worker"] = [sys.executable, "-m", "kinfolk", "worker"]
    return _supervise(
        commands,
        url=f"http://{host_in_url}:{options.port}/",
        connect_to=(local_host, options.port),
        logins=Path(settings.DATA_DIR) / "demo-logins.txt",
    )


def _gunicorn_command(options: argparse.Namespace) -> list[str]:
    bind = f"[{options.host}]" if ":" in options.host else options.host
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "kinfolk.wsgi:application",
        "--bind",
        f"{bind}:{options.port}",
        "--workers",
        str(options.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(options.threads),
        "--graceful-timeout",
        "10",
    ]
    if options.access_log:
        command += ["--access-logfile", "-"]
    if _gunicorn_has_setting("control_socket_disable"):
        # Recent gunicorn opens a control socket at one fixed path per user; two servers would
        # fight over it and nothing here uses it.
        command.append("--no-control-socket")
    return command


def _gunicorn_has_setting(name: str) -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == name for setting in KNOWN_SETTINGS)


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the parent dies.

    Without it, a ``kinfolk serve`` killed with SIGKILL would leave gunicorn holding the port.
    """
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


# Signals each child takes as "finish what you are doing, then stop" and as "stop now".
# gunicorn: TERM is graceful, INT quick. Huey's consumer: INT is graceful, TERM immediate.
GENTLE = {"web": signal.SIGTERM, "worker": signal.SIGINT}
FIRM = {"web": signal.SIGINT, "worker": signal.SIGTERM}


class _Supervisor:
    """Runs named commands side by side and stops them all when one ends or a signal comes."""

    def __init__(self, commands: dict[str, list[str]]) -> None:
        self.commands = commands
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_requests = 0
        self.ended_first = ""

    def on_signal(self, signum: int, frame: object) -> None:
        self.stop_requests += 1

    def start(self) -> None:
        for name, command in self.commands.items():
            # A process group of their own: Ctrl-C reaches this process only, which then stops
            # each child with the signal that child reads as a graceful stop. preexec_fn is safe
            # here: this process runs no threads.
            self.children[name] = subprocess.Popen(
                command,
                process_group=0,
                preexec_fn=_die_with_parent,  # noqa: PLW1509
            )

    def running(self) -> bool:
        """Return whether every child is alive and no stop was asked for."""
        if self.stop_requests:
            return False
        for name, child in self.children.items():
            if child.poll() is not None:
                self.ended_first = name
                return False
        return True

    def exit_status(self) -> int:
        """Return 0 after a clean, requested stop, otherwise the status of the child that failed."""
        if self.ended_first:
            code = self.children[self.ended_first].returncode
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            print(f"kinfolk serve: the {self.ended_first} process {how}", file=sys.stderr)
            # Ending on its own is a failure even with status 0: the service is no longer running.
            return _shell_status(code) or 1
        return max(_shell_status(child.returncode) for child in self.children.values())

    def stop(self) -> None:
        """Stop every child gently; a second stop signal or the timeout makes it firm, then SIGKILL."""
        self._signal_all(GENTLE)
        requests = self.stop_requests
        deadline = time.monotonic() + STOP_TIMEOUT
        firm = False
        while self._alive():
            if not firm and (self.stop_requests > requests or time.monotonic() > deadline - 5):
                self._signal_all(FIRM)
                firm = True
            if time.monotonic() > deadline:
                self.kill()
            time.sleep(0.1)

    def kill(self) -> None:
        for child in self._alive():
            child.kill()
            child.wait()

    def _alive(self) -> list[subprocess.Popen]:
        return [child for child in self.children.values() if child.poll() is None]

    def _signal_all(self, signals: dict[str, signal.Signals]) -> None:
        for name, child in self.children.items():
            if child.poll() is None:
                child.send_signal(signals[name])


def _supervise(
    commands: dict[str, list[str]], *, url: str, connect_to: tuple[str, int], logins: Path
) -> int:
    """Run ``commands`` until one ends or a stop signal comes; return the exit status."""
    supervisor = _Supervisor(commands)
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, supervisor.on_signal) for sig in stop_signals}
    try:
        supervisor.start()
        announced = False
        started = time.monotonic()
        while supervisor.running():
            if not announced and (
                _accepts(connect_to) or time.monotonic() - started > READY_TIMEOUT
            ):
                _announce(url, logins)
                announced = True
            time.sleep(0.2)
        supervisor.stop()
        return supervisor.exit_status()
    finally:
        supervisor.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _shell_status(returncode: int | None) -> int:
    """Return ``returncode`` as a shell would report it: 128 + N for a death by signal N."""
    if returncode is None:
        return 1
    return 128 - returncode if returncode < 0 else returncode


def _accepts(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


def _announce(url: str, logins: Path) -> None:
    lines = ["", "=" * 72, f"Kinfolk is running at {url}"]
    if logins.exists():
        lines += ["", logins.read_text().rstrip()]
    lines += ["", "Ctrl-C stops the server and the background worker.", "=" * 72, ""]
    print("\n".join(lines), flush=True)
