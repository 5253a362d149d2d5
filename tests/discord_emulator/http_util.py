"""HTTP details Discord's REST API shares: JSON replies, errors, rate-limit headers, message bodies."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .settings import REQUEST_TOO_LARGE

# discord.py's json_or_text() compares the header to exactly this; aiohttp's json_response would
# append "; charset=utf-8" and make discord.py treat every reply as text.
JSON_TYPE = "application/json"
FILE_FIELD = re.compile(r"^files\[(\d+)\]$")
BODY_JSON = web.RequestKey("discord_body_json", object)  # the parsed JSON body, for the request log


class DiscordError(Exception):
    """An API error, answered as Discord does: the status and {"message", "code"}."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON reply with Discord's exact Content-Type."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": JSON_TYPE})


def no_content() -> web.Response:
    """A 204 reply."""
    return web.Response(status=204)


def ratelimit_headers(method: str, route: str) -> dict[str, str]:
    """Valid, never-exhausted rate-limit headers (discord.py sleeps pre-emptively at Remaining 0)."""
    bucket = hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:16]
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1.0:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": "user",
    }


@dataclass(frozen=True)
class UploadedFile:
    """One `files[n]` part of a multipart request."""

    index: int
    filename: str
    data: bytes


@dataclass(frozen=True)
class Body:
    """A request body: the JSON (or payload_json) and the files."""

    payload: Any
    files: tuple[UploadedFile, ...] = ()


async def read_body(request: web.Request, upload_limit: int) -> Body:
    """Parse JSON or multipart (payload_json + files[n]); refuse uploads over the limit with 413."""
    if request.content_type == "multipart/form-data":
        body = await _read_multipart(request)
    elif request.body_exists:
        raw = await request.read()
        if request.content_type != JSON_TYPE:
            raise DiscordError(400, 50109, "The request body contains invalid JSON.")
        body = Body(json.loads(raw) if raw else None)
    else:
        body = Body(None)
    request[BODY_JSON] = body.payload
    total = sum(len(f.data) for f in body.files)
    if total > upload_limit:
        raise DiscordError(413, REQUEST_TOO_LARGE, "Request entity too large")
    return body


async def _read_multipart(request: web.Request) -> Body:
    payload: Any = None
    files: list[UploadedFile] = []
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue  # nested multipart: discord.py never sends it
        name = part.name or ""
        match = FILE_FIELD.match(name)
        if name == "payload_json":
            payload = json.loads(await part.text())
        elif match:
            files.append(
                UploadedFile(
                    int(match.group(1)), part.filename or f"file{match.group(1)}", bytes(await part.read())
                )
            )
        else:
            await part.read()  # Discord ignores unknown fields; drain them
    return Body(payload, tuple(files))
