"""Message bodies as Discord checks and stores them: content, embeds, components, attachments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .http_util import DiscordError, UploadedFile
from .records import LOADING, CdnFile, walk_components
from .settings import INVALID_FORM_BODY
from .world import iso

EMPTY_MESSAGE = 50006
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
COMPONENTS_V2 = 1 << 15
EPHEMERAL = 1 << 6
# Flags a bot may set when sending; Discord ignores or refuses the rest.
SETTABLE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | COMPONENTS_V2 | EPHEMERAL

StoreFile = Callable[[UploadedFile, dict[str, Any]], CdnFile]


def form_error(where: str, message: str) -> DiscordError:
    """400 Invalid Form Body naming the field."""
    return DiscordError(
        400,
        INVALID_FORM_BODY,
        "Invalid Form Body",
        {where: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": message}]}},
    )


def check_message(data: dict[str, Any], *, has_files: bool, editing: bool = False) -> None:
    """Refuse what Discord refuses: empty messages, content > 2000, > 10 embeds, oversized components."""
    content = data.get("content") or ""
    if len(content) > 2000:
        raise form_error("content", "Must be 2000 or fewer in length.")
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        raise form_error("embeds", "Must be 10 or fewer in length.")
    total = sum(len(str(e.get("title", ""))) + len(str(e.get("description", ""))) for e in embeds)
    if total > 6000:
        raise form_error("embeds", "Embed size exceeds maximum size of 6000")
    check_components(data.get("components") or [], v2=bool(int(data.get("flags") or 0) & COMPONENTS_V2))
    if not editing and not (
        content
        or embeds
        or has_files
        or data.get("components")
        or data.get("sticker_ids")
        or data.get("poll")
    ):
        raise DiscordError(400, EMPTY_MESSAGE, "Cannot send an empty message")


def check_components(components: list[dict[str, Any]], *, v2: bool) -> None:
    """Action rows: at most 5 of them (v1), 5 buttons or one select each; ids and labels in bounds."""
    if not v2 and len(components) > 5:
        raise form_error("components", "Must be 5 or fewer in length.")
    custom_ids: list[str] = []
    for c in walk_components(components):
        if c.get("type") == 1 and len(c.get("components", [])) > 5:
            raise form_error("components", "An action row holds at most 5 components.")
        if "custom_id" in c:
            if not 1 <= len(c["custom_id"]) <= 100:
                raise form_error("custom_id", "Must be between 1 and 100 in length.")
            custom_ids.append(c["custom_id"])
        if c.get("type") == 2 and len(c.get("label") or "") > 80:
            raise form_error("label", "Must be 80 or fewer in length.")
    if len(custom_ids) != len(set(custom_ids)):
        raise DiscordError(
            400,
            INVALID_FORM_BODY,
            "Invalid Form Body",
            {
                "components": {
                    "_errors": [
                        {
                            "code": "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "message": "Component custom id cannot be duplicated",
                        }
                    ]
                }
            },
        )


def new_attachments(
    data: dict[str, Any], files: Sequence[UploadedFile], store: StoreFile
) -> tuple[list[dict[str, Any]], list[CdnFile]]:
    """Store the uploaded files (named by their `attachments` entries) and return their objects."""
    described = {str(a.get("id")): a for a in data.get("attachments") or [] if isinstance(a, dict)}
    objects, sent = [], []
    for f in files:
        entry = described.get(str(f.index), {})
        stored = store(f, entry)
        sent.append(stored)
        objects.append(attachment_object(stored, ephemeral=bool(int(data.get("flags") or 0) & EPHEMERAL)))
    return objects, sent


def attachment_object(f: CdnFile, *, ephemeral: bool = False) -> dict[str, Any]:
    """The attachment object of a stored file (proxy_url: same CDN, as media.discordapp.net is)."""
    data: dict[str, Any] = {
        "id": str(f.id),
        "filename": f.filename,
        "size": len(f.data),
        "url": f.url,
        "proxy_url": f.url,
        "content_type": f.content_type,
    }
    if f.description:
        data["description"] = f.description
    if ephemeral:
        data["ephemeral"] = True
    return data


def build_message(
    *,
    message_id: int,
    channel_id: int,
    guild_id: int | None,
    author: dict[str, Any],
    data: dict[str, Any],
    attachments: list[dict[str, Any]],
    flags: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A full message object."""
    message: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": data.get("content") or "",
        "timestamp": iso(),
        "edited_timestamp": None,
        "tts": bool(data.get("tts")),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments,
        "embeds": data.get("embeds") or [],
        "components": data.get("components") or [],
        "pinned": False,
        "type": 0,
        "flags": flags,
    }
    if guild_id is not None:
        message["guild_id"] = str(guild_id)
    message.update(extra or {})
    return message


def apply_edit(message: dict[str, Any], data: dict[str, Any], new: list[dict[str, Any]]) -> dict[str, Any]:
    """Edit in place as Discord does: given fields replace, `attachments` lists what stays; loading ends."""
    for key in ("content", "embeds", "components"):
        if key in data:
            message[key] = data[key] if data[key] is not None else ("" if key == "content" else [])
    if "attachments" in data:
        keep = {str(a.get("id")) for a in data["attachments"] or [] if isinstance(a, dict)}
        kept = [a for a in message["attachments"] if a["id"] in keep]
        message["attachments"] = kept + new
    else:
        message["attachments"] = message["attachments"] + new
    flags = int(message.get("flags", 0)) & ~LOADING
    if "flags" in data and data["flags"] is not None:
        # Only these bits may change on edit; ephemerality is fixed when the message is created.
        changeable = SUPPRESS_EMBEDS | COMPONENTS_V2
        flags = (flags & ~changeable) | (int(data["flags"]) & changeable)
    message["flags"] = flags
    message["edited_timestamp"] = iso()
    return message
