"""Settings of the Discord bot (the `[bot]` table of config.toml): every limit users can run into."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

# Discord's own CDN hosts for attachments; nothing else is ever downloaded.
DISCORD_CDN_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
# File name endings of uploads worth downloading (ingest sniffs the bytes again: names can lie).
CLIP_EXTENSIONS = ("mp3", "wav", "ogg", "oga", "opus", "flac", "m4a", "aac", "webm", "mid", "midi")


@dataclass(frozen=True)
class BotSettings:
    """How the bot talks to Discord and how much any one user or server may ask of it."""

    sync_commands: bool = True  # sync the command tree with Discord at start (off for many shards)
    # -- what a request may ask for
    min_seconds: int = 5  # shortest piece /compose accepts, in seconds
    max_seconds: int = 120  # longest piece; servers may lower it in /cadenza settings, never raise it
    default_seconds: int = 30  # length of /continue and the context menu when none is given
    min_tempo: int = 30  # quarter notes per minute; slower is not music any more, just waiting
    max_tempo: int = 240  # faster than this the synthesised notes smear into noise
    max_rewrite_bars: int = 8  # most bars one rewrite writes anew (the model learned gaps of up to 8)
    # -- attachments
    attachment_max_bytes: int = 8 * MIB  # declared size checked before download, then counted while reading
    clip_extensions: tuple[str, ...] = CLIP_EXTENSIONS  # accepted file name endings (audio and MIDI)
    download_timeout_s: float = 20.0  # a whole attachment download, connect to last byte
    cdn_hosts: tuple[str, ...] = DISCORD_CDN_HOSTS  # hosts attachments may come from (host or host:port)
    cdn_allow_http: bool = False  # accept plain http:// attachment URLs (tests' local CDN only)
    # -- fairness
    max_jobs_per_user: int = 2  # pieces one member may have composing at once
    user_burst: int = 4  # requests a member may make back to back...
    user_refill_s: float = 20.0  # ...after which they get one more every this many seconds
    guild_burst: int = 12  # requests a whole server may make back to back...
    guild_refill_s: float = 5.0  # ...then one more every this many seconds
    max_jobs: int = 24  # pieces composing at once in this bot process; past this: Busy
    # -- replies
    progress_edit_interval_s: float = (
        1.5  # at most one progress edit per this many seconds (Discord rate limits)
    )
    progress_edits_per_s: float = 20.0  # all progress edits of one bot process together, at most this many
    token_lifetime_s: float = 900.0  # an interaction token lasts 15 minutes (Discord's rule)
    token_margin_s: float = 60.0  # deliver as a channel message when less than this is left on the token
    job_timeout_s: float = 600.0  # a job (download, composing, rendering) running longer fails
    settings_cache_s: float = 30.0  # server settings are re-read from the database after this long

    def __post_init__(self) -> None:
        if not 1 <= self.min_seconds <= self.default_seconds <= self.max_seconds:
            raise ValueError("need 1 <= min_seconds <= default_seconds <= max_seconds")
        if self.max_rewrite_bars < 1:
            raise ValueError("max_rewrite_bars must be at least 1")
        if not 1 <= self.min_tempo < self.max_tempo:
            raise ValueError("need 1 <= min_tempo < max_tempo")
        if self.attachment_max_bytes < 1 or self.download_timeout_s <= 0:
            raise ValueError("attachment_max_bytes and download_timeout_s must be positive")
        if not self.cdn_hosts or any(not h or "/" in h for h in self.cdn_hosts):
            raise ValueError("cdn_hosts must list host names (host or host:port, no scheme or path)")
        if not self.clip_extensions:
            raise ValueError("clip_extensions must not be empty")
        counts = (self.max_jobs_per_user, self.user_burst, self.guild_burst, self.max_jobs)
        if min(counts) < 1:
            raise ValueError("max_jobs_per_user, user_burst, guild_burst and max_jobs must be at least 1")
        if (
            min(
                self.user_refill_s,
                self.guild_refill_s,
                self.progress_edit_interval_s,
                self.progress_edits_per_s,
            )
            <= 0
        ):
            raise ValueError(
                "user_refill_s, guild_refill_s, progress_edit_interval_s and progress_edits_per_s must be positive"
            )
        if not 0 <= self.token_margin_s < self.token_lifetime_s:
            raise ValueError("need 0 <= token_margin_s < token_lifetime_s")
        if self.job_timeout_s <= 0 or self.settings_cache_s < 0:
            raise ValueError("job_timeout_s must be positive and settings_cache_s not negative")
