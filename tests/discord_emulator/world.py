"""The emulated Discord's state: users, one guild with roles and channels, threads, messages.

Payload builders here produce the JSON shapes discord.py 2.7 parses (user.py, member.py,
role.py, channel.py, threads.py, guild.py, message.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from .settings import EmulatorSettings

DISCORD_EPOCH_MS = 1_420_070_400_000
APP_FLAGS = 1 << 23  # APPLICATION_COMMAND_BADGE: what a bot with slash commands carries.

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
# What @everyone may do in the test guild, and what the bot's invite asks for (see bot/commands/bot.py).
DEFAULT_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)

TEXT, DM, PUBLIC_THREAD, PRIVATE_THREAD = 0, 1, 11, 12
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)


def iso(ts: float | None = None) -> str:
    """An ISO-8601 timestamp as Discord writes them."""
    return dt.datetime.fromtimestamp(time.time() if ts is None else ts, dt.UTC).isoformat()


class Snowflakes:
    """Discord-shaped ids: milliseconds since 2015 in the high bits, so `created_at` is right."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        self._last = max(self._last + 1, candidate)  # strictly increasing even within a millisecond
        return self._last


@dataclass
class User:
    """A Discord user (a person, or the bot)."""

    id: int
    username: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        """The user object."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": None if self.bot else self.username.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class Role:
    """A guild role; `permissions` is the bit set."""

    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        """The role object."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class Channel:
    """A guild text channel, a thread (parent_id set), or a DM (guild_id None)."""

    id: int
    name: str
    type: int = TEXT
    guild_id: int | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    position: int = 0
    last_message_id: int | None = None
    message_count: int = 0
    recipients: list[User] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        """Whether this is a thread."""
        return self.type in THREAD_TYPES

    def payload(self) -> dict[str, Any]:
        """The channel (or thread) object."""
        last = None if self.last_message_id is None else str(self.last_message_id)
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": last,
                "recipients": [u.payload() for u in self.recipients],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "last_message_id": last,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if self.is_thread:
            data.update(
                parent_id=str(self.parent_id),
                owner_id=str(self.owner_id),
                message_count=self.message_count,
                total_message_sent=self.message_count,
                member_count=1,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(),
                    "locked": False,
                    "invitable": True,
                    "create_timestamp": iso(),
                },
            )
        else:
            data.update(
                position=self.position, permission_overwrites=[], parent_id=None, topic=None, nsfw=False
            )
        return data


@dataclass
class Guild:
    """The guild: roles (the @everyone role has the guild's id) and member role lists."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    member_roles: dict[int, list[int]] = field(default_factory=dict)
    joined_at: str = field(default_factory=iso)

    def permissions_of(self, user_id: int) -> int:
        """The member's permissions (role union; no channel overwrites are emulated)."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.roles[self.id].permissions
        for role_id in self.member_roles.get(user_id, []):
            perms |= self.roles[role_id].permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def member_payload(self, user: User, *, with_permissions: bool = False) -> dict[str, Any]:
        """The guild member object (with `user`); interactions add resolved `permissions`."""
        data: dict[str, Any] = {
            "user": user.payload(),
            "roles": [str(r) for r in self.member_roles.get(user.id, [])],
            "joined_at": self.joined_at,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if with_permissions:
            data["permissions"] = str(self.permissions_of(user.id))
        return data


class World:
    """Everything the emulated Discord knows, built from the settings."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.ids = Snowflakes()
        self.bot = User(self.ids.next(), settings.bot_name, bot=True)
        self.application_id = self.bot.id  # as on Discord, a bot's user id is its application id
        self.users: dict[int, User] = {self.bot.id: self.bot}
        self.people = [self._add_user(name) for name in settings.user_names]
        owner = self.people[0]
        self.guild = Guild(self.ids.next(), settings.guild_name, owner_id=owner.id)
        self.guild.roles[self.guild.id] = Role(self.guild.id, "@everyone", DEFAULT_PERMISSIONS)
        bot_role = Role(self.ids.next(), settings.bot_name, DEFAULT_PERMISSIONS, position=1, managed=True)
        self.guild.roles[bot_role.id] = bot_role
        self.bot_role = bot_role
        self.guild.member_roles = {u.id: [] for u in self.people}
        self.guild.member_roles[self.bot.id] = [bot_role.id]
        self.channels: dict[int, Channel] = {}
        for position, name in enumerate(settings.channel_names):
            self.add_channel(name, position=position)

    def _add_user(self, name: str) -> User:
        user = User(self.ids.next(), name)
        self.users[user.id] = user
        return user

    def add_member(self, name: str) -> User:
        """A new user who is a member of the guild."""
        user = self._add_user(name)
        self.guild.member_roles[user.id] = []
        return user

    def add_channel(
        self,
        name: str,
        *,
        type: int = TEXT,
        parent_id: int | None = None,
        owner_id: int | None = None,
        position: int = 0,
    ) -> Channel:
        """A new channel or thread in the guild."""
        channel = Channel(self.ids.next(), name, type, self.guild.id, parent_id, owner_id, position)
        self.channels[channel.id] = channel
        return channel

    def dm_channel(self, user: User) -> Channel:
        """The DM channel between the bot and `user` (created on first use)."""
        for channel in self.channels.values():
            if channel.type == DM and channel.recipients and channel.recipients[0].id == user.id:
                return channel
        channel = Channel(self.ids.next(), "", DM, recipients=[user])
        self.channels[channel.id] = channel
        return channel

    def user_named(self, name: str) -> User:
        """The user called `name`."""
        for user in self.users.values():
            if user.username == name:
                return user
        raise KeyError(f"no user named {name!r}")

    def channel_named(self, name: str) -> Channel:
        """The guild channel or thread called `name`."""
        for channel in self.channels.values():
            if channel.name == name and channel.guild_id is not None:
                return channel
        raise KeyError(f"no channel named {name!r}")

    def permissions_in(self, user_id: int, channel: Channel) -> int:
        """A user's permissions in a channel (DMs allow messages, files and embeds)."""
        if channel.guild_id is None:
            return (
                VIEW_CHANNEL
                | SEND_MESSAGES
                | EMBED_LINKS
                | ATTACH_FILES
                | READ_MESSAGE_HISTORY
                | ADD_REACTIONS
            )
        return self.guild.permissions_of(user_id)

    def guild_payload(self) -> dict[str, Any]:
        """The GUILD_CREATE payload: channels, threads, roles, members."""
        g = self.guild
        in_guild = [c for c in self.channels.values() if c.guild_id == g.id]
        members = [g.member_payload(self.users[uid]) for uid in g.member_roles]
        return {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(g.owner_id),
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "features": [],
            "system_channel_id": str(in_guild[0].id),
            "roles": [r.payload() for r in g.roles.values()],
            "emojis": [],
            "stickers": [],
            "joined_at": g.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "members": members,
            "channels": [c.payload() for c in in_guild if not c.is_thread],
            "threads": [c.payload() for c in in_guild if c.is_thread],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
