"""Settings of the web front (the `[web]` table of config.toml); the signing secret comes from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

SECRET_ENV = "CADENZA_WEB_SECRET"  # the HMAC key of page links; never in config.toml
MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class WebSettings:
    """Where the pages are served, how links look, and every limit that keeps the front small."""

    enabled: bool = False  # off until the operator sets base_url (links must point somewhere people reach)
    host: str = "127.0.0.1"  # listen address; "0.0.0.0" in a container behind a reverse proxy
    port: int = 8080  # listen port (0 = any free port, for tests)
    base_url: str = "http://127.0.0.1:8080"  # public address of the pages, as members' browsers reach them
    requests_per_minute: float = 120.0  # per address: pages, audio and downloads (static files are free)
    burst: int = 40  # requests an address may make at once before the per-minute rate applies
    tracked_addresses: int = 10_000  # addresses remembered by the rate limiter (oldest forgotten first)
    trust_forwarded_for: bool = False  # take the address from X-Forwarded-For (only behind your own proxy)
    render_timeout_s: float = 60.0  # audio made on demand (render pool wait + render) fails after this
    renders_at_once: int = 1  # pieces the web renders at once (the bot's replies share the render pool)
    renders_waiting: int = 8  # further renders queued; beyond this a page's audio answers 503, retry later
    cache_dir: str = "web_cache"  # rendered MP3, piano roll and MusicXML, inside app.data_dir
    cache_mb: int = 512  # disk cache size; least recently used pieces are dropped beyond it
    cache_files: int = 20_000  # at most this many files in the disk cache, whatever their size
    records_cached: int = 1_000  # pieces and sessions kept in memory between page views
    records_ttl_s: float = 30.0  # how long a remembered record is trusted (removals show within this)
    gallery_size: int = 24  # pieces in each gallery list (recent, most liked)
    tree_max_turns: int = 200  # turns drawn in a session's tree (sessions hold 50 by default)
    children_shown: int = 50  # children listed on a piece page

    def __post_init__(self) -> None:
        if not 0 <= self.port < 65536:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"base_url must be an http(s) address without query, got {self.base_url!r}")
        if self.requests_per_minute <= 0 or self.burst < 1 or self.tracked_addresses < 1:
            raise ValueError("requests_per_minute must be positive, burst and tracked_addresses >= 1")
        if self.render_timeout_s <= 0 or self.renders_at_once < 1 or self.renders_waiting < 0:
            raise ValueError("render_timeout_s must be positive, renders_at_once >= 1, renders_waiting >= 0")
        if not self.cache_dir or "/" in self.cache_dir or "\\" in self.cache_dir or self.cache_dir == "..":
            raise ValueError(f"cache_dir must be a plain folder name, got {self.cache_dir!r}")
        if self.cache_mb < 1 or self.cache_files < 10 or self.records_cached < 1 or self.records_ttl_s < 0:
            raise ValueError("cache_mb >= 1, cache_files >= 10, records_cached >= 1, records_ttl_s >= 0")
        if min(self.gallery_size, self.tree_max_turns, self.children_shown) < 1:
            raise ValueError("gallery_size, tree_max_turns and children_shown must be >= 1")

    @property
    def public_root(self) -> str:
        """The base URL without a trailing slash (page paths are appended to it)."""
        return self.base_url.rstrip("/")
