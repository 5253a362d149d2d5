"""The application commands a bot synced: kept as Discord stores them, checked as Discord checks them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .http_util import DiscordError
from .settings import INVALID_FORM_BODY

CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
CHAT_NAME = re.compile(r"^[-_'\w]{1,32}$")


class CommandRegistry:
    """Global and per-guild command lists; ids stay stable across bulk overwrites, as on Discord."""

    def __init__(self, application_id: int, new_id: Callable[[], int]) -> None:
        self.application_id = application_id
        self._new_id = new_id
        self._lists: dict[int | None, list[dict[str, Any]]] = {None: []}  # None: global
        self._ids: dict[tuple[int | None, str, int], int] = {}
        self.sync_count = 0  # bulk overwrites received, all scopes

    def synced(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The synced commands of one scope (global when guild_id is None)."""
        return list(self._lists.get(guild_id, []))

    def overwrite(self, guild_id: int | None, payload: Any) -> list[dict[str, Any]]:
        """PUT .../commands: validate every command, replace the scope's list, return it."""
        if not isinstance(payload, list):
            raise DiscordError(
                400, INVALID_FORM_BODY, "Invalid Form Body", {"_errors": [{"code": "LIST_TYPE_CONVERT"}]}
            )
        if len(payload) > 100:
            raise DiscordError(400, 30032, "Maximum number of application commands reached (100)")
        names = [(c.get("name"), c.get("type", CHAT_INPUT)) for c in payload]
        if len(set(names)) != len(names):
            raise _form_error(
                "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        self._lists[guild_id] = [self._stored(guild_id, c) for c in payload]
        self.sync_count += 1
        return self.synced(guild_id)

    def upsert(self, guild_id: int | None, command: Any) -> dict[str, Any]:
        """POST .../commands: create or replace one command."""
        kept = [
            c
            for c in self._lists.get(guild_id, [])
            if (c["name"], c["type"]) != (command.get("name"), command.get("type", CHAT_INPUT))
        ]
        stored = self._stored(guild_id, command)
        self._lists[guild_id] = [*kept, stored]
        return stored

    def delete(self, guild_id: int | None, command_id: int) -> None:
        """DELETE one command (404 if unknown)."""
        before = self._lists.get(guild_id, [])
        after = [c for c in before if int(c["id"]) != command_id]
        if len(after) == len(before):
            raise DiscordError(404, 10063, "Unknown application command")
        self._lists[guild_id] = after

    def get(self, name: str, type: int = CHAT_INPUT, guild_id: int | None = None) -> dict[str, Any] | None:
        """The command a user in `guild_id` sees under this name (a guild command first, then global)."""
        for scope in ([guild_id] if guild_id is not None else []) + [None]:
            for c in self._lists.get(scope, []):
                if c["name"] == name and c["type"] == type:
                    return c
        return None

    def _stored(self, guild_id: int | None, command: Any) -> dict[str, Any]:
        check_command(command)
        ctype = command.get("type", CHAT_INPUT)
        key = (guild_id, command["name"], ctype)
        if key not in self._ids:
            self._ids[key] = self._new_id()
        stored = {
            "id": str(self._ids[key]),
            "application_id": str(self.application_id),
            "version": str(self._new_id()),
            "type": ctype,
            "name": command["name"],
            "description": command.get("description", ""),
            "options": command.get("options", []),
            "default_member_permissions": command.get("default_member_permissions"),
            "nsfw": command.get("nsfw", False),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types", [0]),
            "name_localizations": command.get("name_localizations"),
            "description_localizations": command.get("description_localizations"),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored


def _form_error(code: str, message: str) -> DiscordError:
    return DiscordError(
        400, INVALID_FORM_BODY, "Invalid Form Body", {"_errors": [{"code": code, "message": message}]}
    )


def check_command(command: Any) -> None:
    """Refuse a command Discord would refuse (names, description lengths, option rules)."""
    if not isinstance(command, dict) or "name" not in command:
        raise _form_error("BASE_TYPE_REQUIRED", "This field is required")
    ctype = command.get("type", CHAT_INPUT)
    name, description = command["name"], command.get("description", "")
    if ctype == CHAT_INPUT:
        if not CHAT_NAME.match(name) or name != name.lower():
            raise _form_error("APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
        if not 1 <= len(description) <= 100:
            raise _form_error("BASE_TYPE_BAD_LENGTH", f"description of /{name} must be 1-100 characters")
    else:
        if not 1 <= len(name) <= 32:
            raise _form_error("BASE_TYPE_BAD_LENGTH", f"Context menu name must be 1-32 characters: {name!r}")
        if description or command.get("options"):
            raise _form_error(
                "APPLICATION_COMMAND_CONTEXT_MENU_FIELDS",
                "Context menu commands take no description or options",
            )
    check_options(command.get("options") or [], f"/{name}")


def check_options(options: list[dict[str, Any]], where: str) -> None:
    """Option rules: at most 25, unique names, required before optional, choices and ranges sane."""
    if len(options) > 25:
        raise _form_error("BASE_TYPE_MAX_LENGTH", f"{where}: at most 25 options")
    seen_optional = False
    names = set()
    for opt in options:
        oname = opt.get("name", "")
        label = f"{where} {oname}"
        if not CHAT_NAME.match(oname) or oname != oname.lower() or oname in names:
            raise _form_error(
                "APPLICATION_COMMAND_INVALID_NAME", f"{label}: invalid or duplicate option name"
            )
        names.add(oname)
        if not 1 <= len(opt.get("description", "")) <= 100:
            raise _form_error("BASE_TYPE_BAD_LENGTH", f"{label}: description must be 1-100 characters")
        if opt.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            check_options(opt.get("options") or [], label)
            continue
        if opt.get("required"):
            if seen_optional:
                raise _form_error(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    f"{label}: required options must come first",
                )
        else:
            seen_optional = True
        if len(opt.get("choices") or []) > 25:
            raise _form_error("BASE_TYPE_MAX_LENGTH", f"{label}: at most 25 choices")
        low, high = opt.get("min_value"), opt.get("max_value")
        if low is not None and high is not None and low > high:
            raise _form_error("NUMBER_TYPE_MIN_MAX", f"{label}: min_value > max_value")
