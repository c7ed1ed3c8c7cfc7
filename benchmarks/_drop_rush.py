"""The fans of the drop benchmark: each opens the drop's page, reserves a copy with their own
e-mail address and, when a copy is held for them, pays for it the way a browser does.

One aiohttp session carries every fan's requests over a pool of ``concurrency`` keep-alive
connections; each fan's cookies (the CSRF cookie, the signed-cookie session with their hold and
cart) are kept in a small dict and sent by hand, which costs the load generator far less than a
session and cookie jar per fan. Pages are read as bytes and searched with a few regular
expressions, never parsed whole.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

TIMEOUT_SECONDS = 30.0
# A fan whose reserve was answered "many fans are buying, try again" tries again this often.
BUSY_RETRIES = 3
STEPS = (
    "drop_page",
    "reserve",
    "checkout_get",
    "place_order",
    "pay_page",
    "pay",
    "callback",
    "order_page",
)
CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/99", "cvc": "123", "name": "Bench Fan"}
ADDRESS = {
    "name": "김민지",
    "street_address": "세종대로 110",
    "city": "중구",
    "country_area": "서울특별시",
    "postal_code": "04524",
    "country_code": "KR",
}

_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_KEY = re.compile(rb'name="idempotency_key" value="([0-9a-f]{32})"')
_TOTAL = re.compile(rb'name="expected_total" value="([0-9]+)"')
_CHARGE = re.compile(r"/testpay/pay/([0-9a-f-]{36})/$")
_ALERT = re.compile(rb'role="alert">([^<]{0,300})')


@dataclass
class Plan:
    """Where the fans go, from the benchmark's own edition."""

    base: str
    drop: str
    reserve: str
    waitlist: str
    checkout: str
    callback: str
    currency: str
    sign: Callable[[bytes, int], str]  # the test processor's signature of a callback body
    size: int
    order_page: bool  # whether the fan's browser loads the order page after paying


class Fan:
    __slots__ = ("cookies", "csrf", "email")

    def __init__(self, email: str) -> None:
        self.email = email
        self.cookies: dict[str, str] = {}
        self.csrf = ""


@dataclass
class Reply:
    status: int
    location: str
    body: bytes


def new_session(concurrency: int) -> aiohttp.ClientSession:
    """Return the session all fans share: ``concurrency`` connections, no cookie jar."""
    # gunicorn closes a keep-alive connection after 2 idle seconds: closing idle ones after 1
    # keeps a request from being sent on a connection the server is closing.
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=1.0)
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
        auto_decompress=False,
    )


class Rush:
    """Runs fans through the drop; keeps latencies per step, outcomes and failures."""

    def __init__(self, session: aiohttp.ClientSession, plan: Plan) -> None:
        self.session, self.plan = session, plan
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.pay_latencies: list[float] = []  # checkout page to the approved callback
        self.failures: Counter[tuple[str, str]] = Counter()  # (step, kind)
        self.examples: dict[str, str] = {}
        self.outcomes: Counter[str] = Counter()
        self.last_reserve = self.last_purchase = 0.0

    # --- HTTP --------------------------------------------------------------------------------

    async def _send(
        self, fan: Fan | None, step: str, method: str, path: str, expect: int, **kwargs
    ) -> Reply | None:
        """Send one request as ``fan`` (None: the processor); return the reply when its status
        is ``expect`` (409 and 429 are returned too, for the reserve step to sort), else count
        the failure and return None."""
        headers = kwargs.pop("headers", {})
        if fan is not None:
            if fan.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in fan.cookies.items())
            if method == "POST":
                headers["Origin"] = self.plan.base
        started = time.perf_counter()
        try:
            async with self.session.request(
                method, self.plan.base + path, headers=headers, allow_redirects=False, **kwargs
            ) as response:
                body = await response.read()
                status = response.status
                location = response.headers.get("Location", "")
                if fan is not None:
                    _keep_cookies(fan, response.headers.getall("Set-Cookie", ()))
        except TimeoutError as exc:
            self._fail(step, "timeouts", repr(exc), started)
            return None
        except aiohttp.ClientError as exc:
            self._fail(step, "connection_errors", repr(exc), started)
            return None
        self.latencies[step].append(time.perf_counter() - started)
        if status == expect or (step == "reserve" and status in {409, 429}):
            return Reply(status, location, body)
        kind = "server_errors" if status >= 500 else "other_errors"
        found = _ALERT.search(body)
        what = found.group(1).decode(errors="replace").strip() if found else body[:200]
        self.failures[(step, kind)] += 1
        self.examples.setdefault(step, f"HTTP {status}: {what!r}")
        return None

    def _fail(self, step: str, kind: str, what: str, started: float) -> None:
        self.latencies[step].append(time.perf_counter() - started)
        self.failures[(step, kind)] += 1
        self.examples.setdefault(step, what)

    # --- the fan's steps ----------------------------------------------------------------------

    async def open_page(self, fan: Fan) -> bool:
        """Open the drop's page, as the fan does when it opens; keep its CSRF token."""
        reply = await self._send(fan, "drop_page", "GET", self.plan.drop, 200)
        found = reply and _CSRF.search(reply.body)
        if not found:
            return False
        fan.csrf = found.group(1).decode()
        return True

    async def reserve(self, fan: Fan) -> bool:
        """Post the reserve form; return whether a copy is held for the fan."""
        data = {"csrfmiddlewaretoken": fan.csrf, "email": fan.email}
        for _attempt in range(1 + BUSY_RETRIES):
            reply = await self._send(fan, "reserve", "POST", self.plan.reserve, 303, data=data)
            self.last_reserve = time.monotonic()
            if reply is None:
                self.outcomes["reserve_failed"] += 1
                return False
            if reply.status == 303:
                if not reply.location.endswith(self.plan.checkout):
                    self.failures[("reserve", "other_errors")] += 1
                    self.examples.setdefault("reserve", f"303 to {reply.location}")
                    return False
                self.outcomes["held"] += 1
                return True
            if reply.status == 429:
                self.outcomes["throttled"] += 1
                return False
            # 409: sold out (the page offers the waitlist), or a retryable "busy"
            if self.plan.waitlist.encode() in reply.body:
                self.outcomes["turned_away"] += 1
                return False
            found = _ALERT.search(reply.body)
            message = found.group(1).decode().strip() if found else ""
            if message.startswith("Sold out"):
                # Told it is sold out, though the page (its copies-left figure counted a
                # moment earlier) still shows the reserve form rather than the waitlist.
                self.outcomes["turned_away"] += 1
                self.outcomes["sold_out_without_waitlist_form"] += 1
                return False
            self.outcomes["busy"] += 1
            self.examples.setdefault("reserve_busy", message or "?")
            await asyncio.sleep(0.05)
        self.outcomes["gave_up_busy"] += 1
        return False

    async def pay(self, fan: Fan) -> bool:
        """Check out the held copy, pay on the processor's page, deliver the callback."""
        started = time.perf_counter()
        plan = self.plan
        reply = await self._send(fan, "checkout_get", "GET", plan.checkout, 200)
        if reply is None:
            return False
        key, total, csrf = (
            _KEY.search(reply.body),
            _TOTAL.search(reply.body),
            _CSRF.search(reply.body),
        )
        if not (key and total and csrf):
            self.failures[("checkout_get", "other_errors")] += 1
            self.examples.setdefault("checkout_get", "no checkout form on the page")
            return False
        data = {
            "csrfmiddlewaretoken": csrf.group(1).decode(),
            "idempotency_key": key.group(1).decode(),
            "expected_total": total.group(1).decode(),
            "email": fan.email,
            "payment_provider": "testpay",
            **ADDRESS,
        }
        reply = await self._send(fan, "place_order", "POST", plan.checkout, 303, data=data)
        charge = reply and _CHARGE.search(reply.location)
        if not charge:
            if reply is not None:
                self.failures[("place_order", "other_errors")] += 1
                self.examples.setdefault("place_order", f"303 to {reply.location}")
            return False
        pay_path = charge.group(0)
        reply = await self._send(fan, "pay_page", "GET", pay_path, 200)
        csrf = reply and _CSRF.search(reply.body)
        if not csrf:
            return False
        card = {"csrfmiddlewaretoken": csrf.group(1).decode(), **CARD}
        reply = await self._send(fan, "pay", "POST", pay_path, 303, data=card)
        if reply is None:
            return False
        order_page = reply.location
        if not await self._callback(charge.group(1), int(data["expected_total"])):
            return False
        self.pay_latencies.append(time.perf_counter() - started)
        self.last_purchase = time.monotonic()
        if plan.order_page:
            path = order_page.removeprefix(plan.base)
            await self._send(fan, "order_page", "GET", path, 200)
        return True

    async def _callback(self, charge_id: str, amount: int) -> bool:
        """Send the processor's signed verdict, as ``kinfolk.testpay`` delivers it."""
        now = int(time.time())
        event = {
            "id": f"evt_{charge_id.replace('-', '')}",
            "type": "charge.approved",
            "created": now,
            "charge": {
                "id": charge_id,
                "amount": amount,
                "currency": self.plan.currency,
                "status": "approved",
                "decline_reason": "",
                "card_last4": "4242",
            },
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Testpay/1.0",
            "Testpay-Signature": self.plan.sign(body, now),
        }
        reply = await self._send(None, "callback", "POST", self.plan.callback, 200, data=body,
                                 headers=headers)  # fmt: skip
        if reply is None:
            return False
        outcome = json.loads(reply.body).get("outcome")
        if outcome != "approved":
            self.failures[("callback", "other_errors")] += 1
            self.examples.setdefault("callback", f"outcome {outcome!r}")
            return False
        return True

    async def buy(self, fan: Fan) -> None:
        """Reserve and, with a copy held, pay."""
        if await self.reserve(fan):
            if await self.pay(fan):
                self.outcomes["purchased"] += 1
            else:
                self.outcomes["payment_failed"] += 1


def _keep_cookies(fan: Fan, headers) -> None:
    """Apply ``Set-Cookie`` headers to the fan's cookies, as a browser would."""
    for raw in headers:
        pair, _sep, attributes = raw.partition(";")
        name, _eq, value = pair.partition("=")
        name = name.strip()
        if not value or "max-age=0" in attributes.lower():
            fan.cookies.pop(name, None)
        else:
            fan.cookies[name] = value.strip()


async def run_fans(
    fans: list[Fan], act: Callable[[Fan], Awaitable[object]], *, concurrency: int, seconds: float
) -> tuple[int, float]:
    """Run ``act`` for each fan in turn from ``concurrency`` tasks until all are done or
    ``seconds`` have passed; return how many started and the seconds taken."""
    deadline = time.monotonic() + seconds
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while issued < len(fans) and time.monotonic() < deadline:
            fan = fans[issued]
            issued += 1
            await act(fan)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return issued, time.monotonic() - started
