"""The web front's parts on their own: signed tokens, the rate limiter, the caches, the settings."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from cadenza.errors import ConfigError
from web import SECRET_ENV, LinkSigner, PageKind, WebSettings, secret_from_env
from web.diskcache import DiskCache
from web.limits import LruCache, RateLimiter

SECRET = b"0123456789abcdef-secret"
CONFIG = Path(__file__).resolve().parents[2] / "config.toml"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_opens_only_its_own_id_and_kind() -> None:
    signer = LinkSigner(SECRET)
    token = signer.token(PageKind.PIECE, "xGRt1zlyQRod")
    assert signer.open(PageKind.PIECE, token) == "xGRt1zlyQRod"
    assert signer.open(PageKind.SESSION, token) is None
    assert LinkSigner(SECRET + b"!").open(PageKind.PIECE, token) is None
    ident, mac = token.split(".")
    assert signer.open(PageKind.PIECE, f"xGRt1zlyQRoe.{mac}") is None
    assert signer.open(PageKind.PIECE, f"{ident}.{mac[:-1]}") is None


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.", ".abc", "a/b.cccccccccccccccccccccc", "x" * 500])
def test_malformed_tokens_open_nothing(token: str) -> None:
    assert LinkSigner(SECRET).open(PageKind.PIECE, token) is None


def test_the_secret_comes_from_the_environment_and_must_be_long() -> None:
    assert secret_from_env({SECRET_ENV: "s" * 32}) == b"s" * 32
    with pytest.raises(ConfigError, match=SECRET_ENV):
        secret_from_env({})
    with pytest.raises(ConfigError, match=SECRET_ENV):
        secret_from_env({SECRET_ENV: "short"})


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, tracked=10, clock=clock)
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.allow("a") == pytest.approx(1.0)
    assert limiter.allow("b") == 0.0  # another address has its own bucket
    clock.now += 1.0
    assert limiter.allow("a") == 0.0
    assert limiter.allow("a") > 0


def test_rate_limiter_remembers_a_bounded_number_of_addresses() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, tracked=100, clock=Clock())
    for n in range(10_000):
        limiter.allow(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100


def test_lru_cache_drops_least_recently_used_and_stale_entries() -> None:
    clock = Clock()
    cache: LruCache[str, int] = LruCache(size=2, ttl_s=10, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    clock.now += 10
    assert cache.get("a") is None and len(cache) == 1


def test_disk_cache_keeps_its_bounds_dropping_least_recently_used(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=250, max_files=10)
    cache.load()
    for key in "abc":
        cache.write(key, "piece.mp3", b"x" * 100)
    assert cache.find("a", "piece.mp3") is None and cache.size_bytes == 200  # a went to make room for c
    assert cache.find("b", "piece.mp3") is not None  # b is now the most recent
    cache.write("d", "piece.mp3", b"y" * 100)
    assert cache.find("c", "piece.mp3") is None and cache.find("b", "piece.mp3") is not None
    assert sorted(p.parent.name for p in tmp_path.glob("*/*")) == ["b", "d"]


def test_disk_cache_bounds_the_number_of_files_and_reloads_what_it_left(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10**6, max_files=10)
    for n in range(15):
        cache.write(f"k{n}", "roll.png", b"png")
    assert len(cache) == 10 and len(list(tmp_path.glob("*/*"))) == 10
    again = DiskCache(tmp_path, max_bytes=10**6, max_files=10)
    again.load()
    assert len(again) == 10 and again.size_bytes == 30 and again.find("k14", "roll.png") is not None
    again.drop("k14")
    assert again.find("k14", "roll.png") is None and not (tmp_path / "k14").exists()


@pytest.mark.parametrize("key", ["..", "a/b", "", ".hidden", "x" * 81])
def test_disk_cache_refuses_unsafe_names(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        DiskCache(tmp_path, 100, 10).write(key, "piece.mp3", b"")


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 70000},
        {"base_url": "ftp://x"},
        {"base_url": "https://x/?q=1"},
        {"requests_per_minute": 0},
        {"burst": 0},
        {"cache_dir": "../up"},
        {"cache_mb": 0},
        {"renders_at_once": 0},
        {"gallery_size": 0},
    ],
)
def test_settings_reject_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WebSettings(**bad)  # type: ignore[arg-type]


def test_config_toml_documents_every_web_key_with_its_default() -> None:
    """The [web] table of config.toml names every key, each with its default."""
    table = tomllib.loads(CONFIG.read_text())["web"]
    assert set(table) == {f.name for f in fields(WebSettings)}
    assert table == asdict(WebSettings())


def test_reading_the_settings_loads_no_web_server_or_templates() -> None:
    import subprocess
    import sys

    code = "import sys, web; web.WebSettings(); print(sorted(m for m in ('jinja2', 'aiohttp.web', 'sqlalchemy', 'render.piece') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=CONFIG.parent,
    )
    assert out.stdout.strip() == "[]"
