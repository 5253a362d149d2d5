"""Command options whose choices and bounds are known only at start-up (genres, sounds, limits).

discord.py builds option metadata from annotations when a class is defined; the loaded checkpoint's
genres and the configured limits arrive later, so they are set on the cog's own command copy here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from discord import app_commands


def set_option(command: app_commands.Command[Any, ..., Any], name: str, **changes: Any) -> None:
    """Replace fields of one option's metadata (choices, min_value, max_value, description...)."""
    params = command._params  # no public setter exists; replacing keeps the class-level original intact
    params[name] = dataclasses.replace(params[name], **changes)


def choices(values: Sequence[str]) -> list[app_commands.Choice[str]]:
    """String choices named as their values (Discord allows at most 25)."""
    return [app_commands.Choice(name=v, value=v) for v in values[:25]]
