"""INTERACTION_CREATE payloads for what a user does in the Discord client.

The client only lets a user send what the synced commands and the message's components allow:
with `validate=True` (the default) the same limits are checked here (required options, choices,
ranges, lengths, select values, disabled buttons) and a ValueError says what a user could not do.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from .commands import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    CHAT_INPUT,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from .core import DiscordCore
from .messages import attachment_object
from .records import CdnFile, walk_components
from .world import Channel, Role, User

Resolved = dict[str, dict[str, Any]]


def interaction_payload(
    core: DiscordCore,
    *,
    type: int,
    user: User,
    channel: Channel,
    data: dict[str, Any],
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The common part of every interaction, in a guild channel or a DM."""
    world = core.world
    payload: dict[str, Any] = {
        "id": str(world.ids.next()),
        "application_id": str(world.application_id),
        "type": type,
        "data": data,
        "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96),
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": core.settings.upload_limit,
        "app_permissions": str(world.permissions_in(world.bot.id, channel)),
        "channel_id": str(channel.id),
        "channel": {**channel.payload(), "permissions": str(world.permissions_in(user.id, channel))},
    }
    if channel.guild_id is not None:
        payload.update(
            guild_id=str(world.guild.id),
            guild={"id": str(world.guild.id), "locale": "en-US", "features": []},
            guild_locale="en-US",
            member=world.guild.member_payload(user, with_permissions=True),
            authorizing_integration_owners={"0": str(world.guild.id)},
            context=0,
        )
    else:
        payload.update(
            user=user.payload(), authorizing_integration_owners={"0": "0", "1": str(user.id)}, context=1
        )
    if message is not None:
        payload["message"] = copy.deepcopy(message)
    return payload


def slash_data(
    core: DiscordCore, name: str, options: dict[str, Any], guild_id: int | None, validate: bool
) -> dict[str, Any]:
    """`data` of a chat-input command; `name` may name a subcommand ("remix clip")."""
    words = name.split()
    command = core.commands.get(words[0], CHAT_INPUT, guild_id)
    if command is None:
        synced = [c["name"] for c in core.commands.synced(None) + core.commands.synced(guild_id)]
        raise ValueError(f"/{words[0]} is not a synced command (synced: {synced})")
    path: list[dict[str, Any]] = []
    definitions = command.get("options") or []
    for word in words[1:]:
        sub = next(
            (o for o in definitions if o["name"] == word and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)),
            None,
        )
        if sub is None:
            raise ValueError(f"/{name}: no subcommand {word!r}")
        path.append(sub)
        definitions = sub.get("options") or []
    resolved: Resolved = {}
    values = _options(core, definitions, options, resolved, validate, f"/{name}")
    for sub in reversed(path):
        values = [{"name": sub["name"], "type": sub["type"], "options": values}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": CHAT_INPUT,
        "options": values,
    }
    if resolved:
        data["resolved"] = resolved
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data


def _options(
    core: DiscordCore,
    definitions: list[dict[str, Any]],
    given: dict[str, Any],
    resolved: Resolved,
    validate: bool,
    where: str,
) -> list[dict[str, Any]]:
    by_name = {d["name"]: d for d in definitions}
    unknown = set(given) - set(by_name)
    if unknown:
        raise ValueError(f"{where}: no option(s) {sorted(unknown)}; options are {sorted(by_name)}")
    if validate:
        missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in given]
        if missing:
            raise ValueError(f"{where}: required option(s) missing: {missing}")
    return [
        _option(core, by_name[key], value, resolved, validate, f"{where} {key}")
        for key, value in given.items()
    ]


def _option(
    core: DiscordCore, d: dict[str, Any], value: Any, resolved: Resolved, validate: bool, where: str
) -> dict[str, Any]:
    otype = d["type"]
    if otype in (STRING, INTEGER, NUMBER, BOOLEAN):
        if validate:
            _check_value(d, value, where)
        return {"name": d["name"], "type": otype, "value": value}
    if otype == ATTACHMENT:
        if not isinstance(value, CdnFile):
            raise ValueError(f"{where}: pass the CdnFile from Emulator.upload_attachment()")
        resolved.setdefault("attachments", {})[str(value.id)] = attachment_object(value, ephemeral=True)
        return {"name": d["name"], "type": otype, "value": str(value.id)}
    kinds: dict[int, tuple[type, ...]] = {
        USER: (User,),
        ROLE: (Role,),
        CHANNEL: (Channel,),
        MENTIONABLE: (User, Role),
    }
    expected = kinds[otype]
    if validate and not isinstance(value, expected):
        raise ValueError(f"{where}: expected {' or '.join(t.__name__ for t in expected)}, got {value!r}")
    snowflake = _resolve(core, value, resolved, where)
    return {"name": d["name"], "type": otype, "value": snowflake}


def _check_value(d: dict[str, Any], value: Any, where: str) -> None:
    otype = d["type"]
    types: dict[int, tuple[type, ...]] = {
        STRING: (str,),
        INTEGER: (int,),
        NUMBER: (int, float),
        BOOLEAN: (bool,),
    }
    expected = types[otype]
    if not isinstance(value, expected) or (otype in (INTEGER, NUMBER) and isinstance(value, bool)):
        raise ValueError(f"{where}: {value!r} is not a valid {expected}")
    choices = d.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"{where}: {value!r} is not one of the choices {[c['value'] for c in choices]}")
    low, high = d.get("min_value"), d.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{where}: {value!r} is outside [{low}, {high}]")
    length = len(str(value))
    if otype == STRING and not d.get("min_length", 0) <= length <= d.get("max_length", 6000):
        raise ValueError(
            f"{where}: length {length} is outside [{d.get('min_length', 0)}, {d.get('max_length', 6000)}]"
        )


def _resolve(core: DiscordCore, value: Any, resolved: Resolved, where: str) -> str:
    """Add a user, role or channel to `resolved`; returns its id as the option value."""
    world = core.world
    if isinstance(value, User):
        resolved.setdefault("users", {})[str(value.id)] = value.payload()
        if value.id in world.guild.member_roles:
            member = world.guild.member_payload(value, with_permissions=True)
            member.pop("user")
            resolved.setdefault("members", {})[str(value.id)] = member
        return str(value.id)
    if isinstance(value, Role):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return str(value.id)
    if isinstance(value, Channel):
        perms = str(world.permissions_in(world.people[0].id, value))
        resolved.setdefault("channels", {})[str(value.id)] = {**value.payload(), "permissions": perms}
        return str(value.id)
    raise ValueError(
        f"{where}: cannot resolve {value!r} (pass a User, Role or Channel from the emulator's world)"
    )


def component_data(
    message: dict[str, Any], custom_id: str, values: list[str] | None, validate: bool
) -> dict[str, Any]:
    """`data` of a button press (values None) or a select."""
    component = next(
        (c for c in walk_components(message.get("components", [])) if c.get("custom_id") == custom_id), None
    )
    if component is None:
        ids = [c["custom_id"] for c in walk_components(message.get("components", [])) if "custom_id" in c]
        raise ValueError(f"message {message['id']} has no component {custom_id!r} (it has {ids})")
    if validate and component.get("disabled"):
        raise ValueError(f"component {custom_id!r} is disabled")
    ctype = component["type"]
    if values is None:
        if validate and ctype != 2:
            raise ValueError(f"component {custom_id!r} is not a button (type {ctype})")
        return {"custom_id": custom_id, "component_type": 2}
    if validate:
        _check_select(component, values)
    return {"custom_id": custom_id, "component_type": ctype, "values": list(values)}


def _check_select(component: dict[str, Any], values: list[str]) -> None:
    if component["type"] not in (3, 5, 6, 7, 8):
        raise ValueError(f"component {component['custom_id']!r} is not a select menu")
    low, high = component.get("min_values", 1), component.get("max_values", 1)
    if not low <= len(values) <= high:
        raise ValueError(f"select {component['custom_id']!r} takes {low}-{high} values, got {len(values)}")
    if component["type"] == 3:
        allowed = [o["value"] for o in component.get("options", [])]
        if set(values) - set(allowed):
            raise ValueError(f"select {component['custom_id']!r}: {values} not among options {allowed}")


def modal_data(modal: dict[str, Any], values: dict[str, Any], validate: bool) -> dict[str, Any]:
    """`data` of a modal submit: the modal's layout with the user's values filled in."""
    used: set[str] = set()

    def submitted(c: dict[str, Any]) -> dict[str, Any]:
        cid = c.get("custom_id", "")
        out: dict[str, Any] = {"type": c["type"], "custom_id": cid}
        if "id" in c:
            out["id"] = c["id"]
        if cid in values:
            used.add(cid)
        if c["type"] == 4:
            text = str(values.get(cid, c.get("value") or ""))
            if validate and c.get("required", True) and not text:
                raise ValueError(f"modal field {cid!r} is required")
            if validate and not c.get("min_length", 0) <= len(text) <= c.get("max_length", 4000):
                raise ValueError(f"modal field {cid!r}: length {len(text)} out of bounds")
            out["value"] = text
        else:
            out["values"] = list(values.get(cid, []))
        return out

    rows: list[dict[str, Any]] = []
    for comp in modal.get("components", []):
        if comp["type"] == 1:
            rows.append({"type": 1, "components": [submitted(c) for c in comp.get("components", [])]})
        elif comp["type"] == 18:
            rows.append({"type": 18, "id": comp.get("id"), "component": submitted(comp["component"])})
        elif comp["type"] == 10:
            rows.append({"type": 10, "id": comp.get("id"), "content": comp.get("content", "")})
    if set(values) - used:
        raise ValueError(f"modal {modal.get('custom_id')!r} has no field(s) {sorted(set(values) - used)}")
    return {"custom_id": modal["custom_id"], "components": rows}


def context_menu_data(core: DiscordCore, command: dict[str, Any], target: Any) -> dict[str, Any]:
    """`data` of a message (type 3) or user (type 2) context-menu command."""
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": command["type"]}
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if command["type"] == 3:
        if not isinstance(target, dict):
            raise ValueError(f"{command['name']!r} is a message command: pass a message")
        data["target_id"] = target["id"]
        data["resolved"] = {"messages": {target["id"]: copy.deepcopy(target)}}
    else:
        if not isinstance(target, User):
            raise ValueError(f"{command['name']!r} is a user command: pass a User")
        resolved: Resolved = {}
        data["target_id"] = _resolve(core, target, resolved, command["name"])
        data["resolved"] = resolved
    return data
