"""Unguessable page addresses: a record's id with an HMAC of it, so only links the bot handed out open.

Ids alone are not enough: piece ids ride in Discord button ids that every client can read. A token is
`<id>.<mac>`, the mac the first 132 bits of HMAC-SHA256 over the page kind and the id; a token that
does not verify is answered like a page that does not exist, before the database is asked.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from collections.abc import Mapping

from cadenza.errors import ConfigError
from web.settings import MIN_SECRET_BYTES, SECRET_ENV, WebSettings

MAC_CHARS = 22  # base64url characters of the HMAC kept in a token (132 bits)
_IDENT = re.compile(r"[A-Za-z0-9_-]{1,40}")
_MAC = re.compile(rf"[A-Za-z0-9_-]{{{MAC_CHARS}}}")


class PageKind(enum.StrEnum):
    """What a link opens; part of what is signed, so a piece's token never opens a session."""

    PIECE = "p"
    SESSION = "s"
    GALLERY = "g"


def secret_from_env(env: Mapping[str, str]) -> bytes:
    """The signing key from CADENZA_WEB_SECRET; ConfigError if it is unset or too short to be safe."""
    value = env.get(SECRET_ENV, "")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{SECRET_ENV} must be set to a random secret of at least {MIN_SECRET_BYTES} bytes for the web "
            f'pages (for example: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return value.encode()


class LinkSigner:
    """Signs record ids into tokens and opens tokens back into ids."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(f"the web signing secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def _mac(self, kind: PageKind, ident: str) -> str:
        digest = hmac.new(self._secret, f"{kind.value}:{ident}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]

    def token(self, kind: PageKind, ident: str) -> str:
        """The token of a record id (url-safe, no padding)."""
        if not _IDENT.fullmatch(ident):
            raise ValueError(f"not a record id: {ident!r}")
        return f"{ident}.{self._mac(kind, ident)}"

    def open(self, kind: PageKind, token: str) -> str | None:
        """The id a token was made from, or None when it was not made by us for this kind of page."""
        ident, dot, mac = token.rpartition(".")
        if not dot or not _IDENT.fullmatch(ident) or not _MAC.fullmatch(mac):
            return None
        return ident if hmac.compare_digest(mac, self._mac(kind, ident)) else None


class Links:
    """Public page addresses: the base URL plus a signed token. What the bot puts on link buttons."""

    def __init__(self, settings: WebSettings, signer: LinkSigner) -> None:
        self._root = settings.public_root
        self._signer = signer

    def path(self, kind: PageKind, ident: str) -> str:
        """The page's path on this server, e.g. `/p/<token>`."""
        return f"/{kind.value}/{self._signer.token(kind, ident)}"

    def piece_url(self, piece_id: str) -> str:
        """The address of a piece's page."""
        return self._root + self.path(PageKind.PIECE, piece_id)

    def session_url(self, session_id: str) -> str:
        """The address of a session's page."""
        return self._root + self.path(PageKind.SESSION, session_id)

    def gallery_url(self, guild_id: int) -> str:
        """The address of a server's gallery (it answers only while the server has the gallery on)."""
        return self._root + self.path(PageKind.GALLERY, str(guild_id))
