"""Fairness: token buckets per member and per server, a per-member job limit and a bot-wide one.

Every refusal is a `RateLimited` or `Busy` whose `retry_after` tells the member when to try again.
All of it is in memory and synchronous, so a check costs nothing before the 3-second deadline.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.settings import BotSettings
from cadenza.errors import Busy, RateLimited

Clock = Callable[[], float]
MAX_BUCKETS = 10_000  # full buckets are forgotten past this many, so memory stays bounded


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled at one per `refill_s` seconds; each request takes one."""

    capacity: int
    refill_s: float
    tokens: float = field(default=-1.0)
    stamp: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.capacity)

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) / self.refill_s)
        self.stamp = now

    def wait_s(self, now: float) -> float:
        """Seconds until a token is available (0 if one is there now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) * self.refill_s

    def take(self, now: float) -> None:
        """Use one token (call after `wait_s` returned 0)."""
        self._refill(now)
        self.tokens -= 1

    def give_back(self, now: float) -> None:
        """Return a token taken for a request that turned out to be bad input."""
        self._refill(now)
        self.tokens = min(float(self.capacity), self.tokens + 1)

    def full(self, now: float) -> bool:
        """True when the bucket has refilled completely (and can be forgotten)."""
        self._refill(now)
        return self.tokens >= self.capacity


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))


class Admission:
    """Decides whether a member's request may start now; `admit` holds their job slot while it runs."""

    def __init__(self, settings: BotSettings, clock: Clock = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._users: dict[int, TokenBucket] = {}
        self._guilds: dict[int, TokenBucket] = {}
        self._running: dict[int, int] = {}  # user id -> jobs composing
        self.active = 0
        self.typical_job_s = 20.0  # running estimate of one job's duration, for retry hints

    def check(self, user_id: int, guild_id: int | None) -> None:
        """Raise RateLimited or Busy (with retry_after) if the request may not start now."""
        s, now = self.settings, self.clock()
        if self.active >= s.max_jobs:
            wait = _seconds(self.typical_job_s)
            raise Busy(f"I'm composing as many pieces as I can right now. Try again in about {wait} s.", wait)
        if self._running.get(user_id, 0) >= s.max_jobs_per_user:
            wait = _seconds(self.typical_job_s)
            raise RateLimited(
                f"You already have {s.max_jobs_per_user} pieces composing. "
                f"Try again when one is done (about {wait} s).",
                wait,
            )
        user = self._bucket(self._users, user_id, s.user_burst, s.user_refill_s)
        if (wait_s := user.wait_s(now)) > 0:
            raise RateLimited(f"You're composing fast! Try again in {_seconds(wait_s)} s.", _seconds(wait_s))
        if guild_id is not None:
            guild = self._bucket(self._guilds, guild_id, s.guild_burst, s.guild_refill_s)
            if (wait_s := guild.wait_s(now)) > 0:
                raise RateLimited(
                    f"This server is composing a lot right now. Try again in {_seconds(wait_s)} s.",
                    _seconds(wait_s),
                )
            guild.take(now)
        user.take(now)

    def refund(self, user_id: int, guild_id: int | None) -> None:
        """Give back what `check` took: a request refused as bad input costs the member nothing."""
        now = self.clock()
        if (user := self._users.get(user_id)) is not None:
            user.give_back(now)
        if guild_id is not None and (guild := self._guilds.get(guild_id)) is not None:
            guild.give_back(now)

    @contextmanager
    def admit(self, user_id: int, guild_id: int | None) -> Iterator[None]:
        """Check, then hold one of the member's job slots until the block ends."""
        self.check(user_id, guild_id)
        self._running[user_id] = self._running.get(user_id, 0) + 1
        self.active += 1
        started = self.clock()
        try:
            yield
        finally:
            self.active -= 1
            left = self._running[user_id] - 1
            if left:
                self._running[user_id] = left
            else:
                del self._running[user_id]
            # An exponential average: recent jobs say most about how long the next will take.
            self.typical_job_s = 0.8 * self.typical_job_s + 0.2 * (self.clock() - started)

    def _bucket(
        self, buckets: dict[int, TokenBucket], key: int, capacity: int, refill_s: float
    ) -> TokenBucket:
        bucket = buckets.get(key)
        if bucket is None:
            if len(buckets) >= MAX_BUCKETS:
                self._forget_full(buckets)
            bucket = buckets[key] = TokenBucket(capacity, refill_s, stamp=self.clock())
        return bucket

    def _forget_full(self, buckets: dict[int, TokenBucket]) -> None:
        now = self.clock()
        for key in [k for k, b in buckets.items() if b.full(now)]:
            del buckets[key]
