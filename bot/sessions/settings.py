"""Settings of community remix sessions (the `[sessions]` table of config.toml)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SessionSettings:
    """How long sessions grow and how much one member may add to them."""

    turns_per_member_per_hour: int = 6  # turns one member may add (all sessions) in any hour
    max_turns: int = 50  # turns a session holds; past this it takes no more (start a new one)
    turn_seconds: int = 20  # seconds of new music in a turn (also the first piece's length)
    mix_crossfade_s: float = 0.5  # seconds two parts overlap in /session mix (fade out / fade in)
    top_count: int = 10  # turns listed by /session top
    branch_choices: int = 25  # turns offered by Branch's menu, newest first (Discord allows 25)

    def __post_init__(self) -> None:
        if self.turns_per_member_per_hour < 1 or self.max_turns < 1:
            raise ValueError("turns_per_member_per_hour and max_turns must be at least 1")
        if self.turn_seconds < 1:
            raise ValueError("turn_seconds must be at least 1")
        if not 0 <= self.mix_crossfade_s <= 5:
            raise ValueError("mix_crossfade_s must lie in 0..5 seconds")
        if not 1 <= self.top_count <= 25:
            raise ValueError("top_count must lie in 1..25 (one embed's fields)")
        if not 1 <= self.branch_choices <= 25:
            raise ValueError("branch_choices must lie in 1..25 (Discord's select menu limit)")
