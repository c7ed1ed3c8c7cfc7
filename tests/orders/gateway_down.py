"""A card gateway that cannot be reached: every refund fails on the network, as a real one does
when it is down. Enabled by a test through ``settings.PAYMENT_PROVIDERS``."""

from __future__ import annotations

import httpx


class GatewayDownProvider:
    code = "gateway_down"
    label = "Gateway that is down"
    instructions = "Waiting for the gateway."

    def start(self, *, payment, return_url: str, callback_url: str) -> str:
        return ""

    def refund(self, *, payment, amount: int, idempotency_key: str):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    def parse_callback(self, *, body: bytes, headers: dict[str, str]):
        raise NotImplementedError
