"""Fixtures for the simulated processor: an empty task queue and a real merchant endpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from huey.contrib.djhuey import HUEY

from kinfolk.testpay import services


@pytest.fixture(autouse=True)
def empty_task_queue() -> Iterator[None]:
    # The in-memory queue outlives a test; a task left by one must not run in the next.
    HUEY.flush()
    yield
    HUEY.flush()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class MerchantEndpoint:
    """A loopback HTTP server that records every POST and answers the next queued status."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def merchant() -> Iterator[MerchantEndpoint]:
    endpoint = MerchantEndpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            endpoint.received.append(Received(self.path, dict(self.headers.items()), body))
            status = endpoint.statuses.pop(0) if endpoint.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/callbacks/testpay/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_charge(
    *,
    amount: int = 1250,
    currency: str = "USD",
    callback_url: str = "http://127.0.0.1:9/callback",
    return_url: str = "https://shop.example/orders/42/",
):
    """Create a charge the way a merchant would."""
    return services.charge_create(
        merchant_reference="order-42",
        amount=amount,
        currency=currency,
        description="Garage Drones · #42",
        callback_url=callback_url,
        return_url=return_url,
    )
