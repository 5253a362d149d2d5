"""What the emulator records: the bot's replies (with files), interactions and their fates, requests.

Tests read these back, usually through the waiting helpers, which wait on the recorded event
itself (with a timeout) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
EPHEMERAL = 1 << 6
LOADING = 1 << 7


class ReplyKind(enum.Enum):
    """How the bot produced a message (or a change to one)."""

    CALLBACK = "callback"  # POST /interactions/{id}/{token}/callback
    FOLLOWUP = "followup"  # POST /webhooks/{app}/{token}
    EDIT = "edit"  # PATCH /webhooks/{app}/{token}/messages/{@original|id}
    CHANNEL_MESSAGE = "channel_message"  # POST /channels/{id}/messages
    MESSAGE_EDIT = "message_edit"  # PATCH /channels/{id}/messages/{id}


class CallbackType(enum.IntEnum):
    """Interaction callback types (Discord's InteractionResponseType)."""

    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9
    LAUNCH_ACTIVITY = 12


@dataclass(frozen=True)
class CdnFile:
    """A file on the emulator's CDN: uploaded by the bot, or by a test user (`Emulator.upload_attachment`)."""

    id: int
    filename: str
    data: bytes
    content_type: str
    url: str
    description: str | None = None


@dataclass(frozen=True)
class Reply:
    """One message the bot sent or edited, or one interaction callback, as Discord received it."""

    kind: ReplyKind
    raw: dict[str, Any]  # the JSON body (payload_json for multipart) exactly as the bot sent it
    message: dict[str, Any] | None  # the message after this change (None for modals and pure acks)
    files: tuple[CdnFile, ...] = ()  # files uploaded in this request
    callback_type: CallbackType | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The message fields of the request (a callback's `data`, else the body)."""
        if self.kind is ReplyKind.CALLBACK:
            return self.raw.get("data") or {}
        return self.raw

    @property
    def message_id(self) -> int | None:
        """Id of the message created or changed."""
        return None if self.message is None else int(self.message["id"])

    @property
    def channel_id(self) -> int | None:
        """Channel of that message."""
        return None if self.message is None else int(self.message["channel_id"])

    @property
    def content(self) -> str | None:
        """The message's content after this change."""
        return None if self.message is None else self.message.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """The message's embeds after this change."""
        return [] if self.message is None else self.message.get("embeds", [])

    @property
    def components(self) -> list[dict[str, Any]]:
        """The message's components (action rows...) after this change."""
        return [] if self.message is None else self.message.get("components", [])

    @property
    def flags(self) -> int:
        """Message flags after this change (a callback without message: the requested flags)."""
        if self.message is not None:
            return int(self.message.get("flags", 0))
        return int(self.data.get("flags", 0) or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user sees the message."""
        return bool(self.flags & EPHEMERAL)

    @property
    def deferred(self) -> bool:
        """Whether this callback deferred (type 5 "thinking", or 6 deferred update)."""
        return self.callback_type in (
            CallbackType.DEFERRED_CHANNEL_MESSAGE,
            CallbackType.DEFERRED_UPDATE_MESSAGE,
        )

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal (custom_id, title, components) if this callback opened one."""
        return self.data if self.callback_type is CallbackType.MODAL else None

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """The message's attachment objects after this change."""
        return [] if self.message is None else self.message.get("attachments", [])

    def file(self, filename: str) -> CdnFile:
        """The uploaded file called `filename`."""
        for f in self.files:
            if f.filename == filename:
                return f
        raise KeyError(f"no file {filename!r}; files: {[f.filename for f in self.files]}")

    def walk_components(self) -> Iterator[dict[str, Any]]:
        """Every component, depth first (rows, containers and what they hold)."""
        yield from walk_components(self.components)

    def custom_ids(self) -> list[str]:
        """custom_id of every interactive component."""
        return [c["custom_id"] for c in self.walk_components() if "custom_id" in c]

    def button(self, label: str) -> dict[str, Any]:
        """The button with this label."""
        for c in self.walk_components():
            if c.get("type") == 2 and c.get("label") == label:
                return c
        raise KeyError(f"no button labelled {label!r}")


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component in a (possibly nested) component list, depth first."""
    for c in components:
        yield c
        yield from walk_components(c.get("components", []))
        if isinstance(c.get("component"), dict):
            yield from walk_components([c["component"]])
        if isinstance(c.get("accessory"), dict):
            yield from walk_components([c["accessory"]])


@dataclass(frozen=True)
class Refusal:
    """A request the emulator refused the way Discord would (status and JSON error code)."""

    method: str
    path: str
    status: int
    code: int
    message: str


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the bot made (body parsed when JSON or payload_json)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int


class Signal:
    """Wakes waiters whenever something is recorded; waits on conditions with a timeout."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.aborts: list[Callable[[], str | None]] = []  # return a reason to stop waiting (bot died)
        self.diagnostics: Callable[[], str] = lambda: ""

    def notify(self) -> None:
        """Something changed: let every waiter re-check its condition."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_for(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        """The first non-None result of `check`, re-checked on every change, within `timeout` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = check()
            if value is not None:
                return value
            for abort in self.aborts:
                reason = abort()
                if reason:
                    raise AssertionError(f"stopped waiting for {what}: {reason}{self.diagnostics()}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}{self.diagnostics()}")
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                continue


@dataclass
class InteractionTrace:
    """One interaction the test injected, and everything the bot did with it."""

    id: int
    token: str
    payload: dict[str, Any]  # the INTERACTION_CREATE payload sent over the gateway
    created_at: float  # event-loop time of dispatch
    signal: Signal = field(repr=False)
    callback: Reply | None = None
    followups: list[Reply] = field(default_factory=list)
    edits: list[Reply] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    original_message_id: int | None = None  # the message the interaction's responses edit (@original)
    deleted_original: bool = False

    history: list[Reply] = field(default_factory=list)  # every reply in arrival order

    @property
    def replies(self) -> list[Reply]:
        """Callback, followups and edits in the order they arrived."""
        return list(self.history)

    def record(self, reply: Reply) -> None:
        """Add a reply (used by the REST handlers)."""
        self.history.append(reply)
        if reply.kind is ReplyKind.CALLBACK:
            self.callback = reply
        elif reply.kind is ReplyKind.FOLLOWUP:
            self.followups.append(reply)
        else:
            self.edits.append(reply)
        self.signal.notify()

    def refuse(self, refusal: Refusal) -> None:
        """Note a refused request (used by the REST handlers)."""
        self.refusals.append(refusal)
        self.signal.notify()

    async def response(self, timeout: float = 10.0) -> Reply:
        """The initial response (callback), once it arrives."""
        return await self.signal.wait_for(
            lambda: self.callback, timeout, f"the initial response to interaction {self.id}"
        )

    async def followup(self, index: int = 0, timeout: float = 10.0) -> Reply:
        """The index-th followup message."""
        return await self.signal.wait_for(
            lambda: self.followups[index] if len(self.followups) > index else None,
            timeout,
            f"followup #{index} of interaction {self.id}",
        )

    async def edit(self, index: int = 0, timeout: float = 10.0) -> Reply:
        """The index-th edit of the original response (or of a followup) through the token."""
        return await self.signal.wait_for(
            lambda: self.edits[index] if len(self.edits) > index else None,
            timeout,
            f"edit #{index} of interaction {self.id}",
        )

    async def reply(
        self, where: Callable[[Reply], bool], timeout: float = 10.0, what: str = "a matching reply"
    ) -> Reply:
        """The first reply (callback, followup or edit) for which `where` is true."""
        return await self.signal.wait_for(
            lambda: next((r for r in self.replies if where(r)), None),
            timeout,
            f"{what} to interaction {self.id}",
        )

    async def refusal(self, timeout: float = 10.0) -> Refusal:
        """The first request about this interaction that the emulator refused."""
        return await self.signal.wait_for(
            lambda: self.refusals[0] if self.refusals else None,
            timeout,
            f"a refused request for interaction {self.id}",
        )
