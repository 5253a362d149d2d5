"""Rate limits, job limits and option checks, in process (no Discord needed): each refusal says when."""

from __future__ import annotations

import pytest

from bot.limits import Admission, TokenBucket
from bot.options import ServerDefaults, SpecChecker
from bot.settings import BotSettings
from cadenza.errors import BadInput, Busy, RateLimited, TooLong


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admission(clock: Clock, **settings: object) -> Admission:
    return Admission(BotSettings(**settings), clock=clock)  # type: ignore[arg-type]


def test_token_bucket_refills_one_token_per_interval() -> None:
    bucket = TokenBucket(capacity=2, refill_s=10.0, stamp=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    assert bucket.wait_s(0.0) == pytest.approx(10.0)
    assert bucket.wait_s(4.0) == pytest.approx(6.0)
    assert bucket.wait_s(10.0) == 0.0


def test_user_rate_limit_says_when_to_retry() -> None:
    clock = Clock()
    gate = admission(clock, user_burst=2, user_refill_s=30.0)
    gate.check(1, 10)
    gate.check(1, 10)
    with pytest.raises(RateLimited, match=r"Try again in 30 s") as refused:
        gate.check(1, 10)
    assert refused.value.retry_after == 30
    gate.check(2, 10)  # another member is not affected
    clock.now += 30
    gate.check(1, 10)


def test_server_rate_limit_covers_all_members() -> None:
    clock = Clock()
    gate = admission(clock, guild_burst=3, guild_refill_s=5.0)
    for user in (1, 2, 3):
        gate.check(user, 10)
    with pytest.raises(RateLimited, match="This server") as refused:
        gate.check(4, 10)
    assert refused.value.retry_after == 5
    gate.check(4, 11)  # another server is not affected
    gate.check(4, None)  # direct messages have no server bucket


def test_refused_server_request_does_not_use_the_members_token() -> None:
    clock = Clock()
    gate = admission(clock, user_burst=1, guild_burst=1, guild_refill_s=5.0)
    gate.check(1, 10)
    with pytest.raises(RateLimited):
        gate.check(2, 10)
    gate.check(2, 11)  # member 2 still has their one token


def test_member_may_run_only_so_many_jobs_at_once() -> None:
    clock = Clock()
    gate = admission(clock, max_jobs_per_user=1)
    with gate.admit(1, 10), pytest.raises(RateLimited, match="already have 1 pieces composing"):
        gate.check(1, 10)
    gate.check(1, 10)


def test_full_bot_answers_busy_with_a_retry_time() -> None:
    clock = Clock()
    gate = admission(clock, max_jobs=1)
    with gate.admit(1, 10):
        with pytest.raises(Busy, match="Try again in about") as refused:
            gate.check(2, 11)
        assert refused.value.retry_after >= 1
    assert gate.active == 0


def checker(**settings: object) -> SpecChecker:
    return SpecChecker(BotSettings(**settings), ["chorale", "folk"], ["piano", "strings"])  # type: ignore[arg-type]


def test_spec_uses_server_defaults_then_the_bots() -> None:
    spec = checker().build(ServerDefaults(genre="folk", sound="strings", length=40), seed=7)
    assert (spec.genre, spec.sound, spec.seconds, spec.seed, spec.creativity) == (
        "folk",
        "strings",
        40,
        7,
        "balanced",
    )


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"genre": "polka"}, BadInput, "don't know the genre"),
        ({"seconds": 121}, TooLong, "at most 120 s"),
        ({"seconds": 2}, BadInput, "at least 5 s"),
        ({"key": "H major"}, BadInput, "can't read the key"),
        ({"tempo": 10}, BadInput, "between 30 and 240"),
        ({"sound": "kazoo"}, BadInput, "don't have the sound"),
        ({"creativity": "wild"}, BadInput, "Creativity must be"),
        ({"seed": -1}, BadInput, "seed must be"),
    ],
)
def test_spec_rejects_bad_options_with_a_hint(options: dict[str, object], error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        checker().build(ServerDefaults(), **options)  # type: ignore[arg-type]


def test_server_limit_lowers_the_longest_piece() -> None:
    with pytest.raises(TooLong, match="at most 30 s"):
        checker().build(ServerDefaults(max_length=30), seconds=31)


def test_key_names_are_normalised() -> None:
    assert checker().build(ServerDefaults(), key="f#m").key == "F# minor"


def test_a_refund_gives_back_the_token_bad_input_took() -> None:
    now = [0.0]
    admission = Admission(BotSettings(user_burst=1, user_refill_s=3600.0), clock=lambda: now[0])
    admission.check(7, 1)
    with pytest.raises(RateLimited):
        admission.check(7, 1)
    admission.refund(7, 1)
    admission.check(7, 1)  # the refunded token is there again
    admission.refund(7, 1)
    admission.refund(7, 1)  # never more than the bucket holds
    admission.check(7, 1)
    with pytest.raises(RateLimited):
        admission.check(7, 1)
