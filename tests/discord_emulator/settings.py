"""Settings of the Discord emulator, and the Discord error codes it answers with."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulated Discord behaves; defaults are Discord's own rules."""

    # The bot token the emulator accepts; any other token is refused (401 at login, 4004 on the gateway).
    token: str = "emulator-bot-token"
    # Seconds a bot has for its first interaction response; later ones get 404 Unknown interaction.
    initial_response_timeout: float = 3.0
    # Seconds an interaction token stays valid for followups and edits (Discord: 15 minutes).
    token_lifetime: float = 15 * 60.0
    # Largest total size of the files in one request, in bytes (Discord's default for bots: 10 MiB).
    upload_limit: int = 10 * MIB
    # Heartbeat interval sent in HELLO, in milliseconds (Discord sends about 41 s).
    heartbeat_interval_ms: int = 41_250
    # Let concurrent injections share heartbeat round trips (load tests: hundreds at once would exceed
    # discord.py's 120 gateway sends a minute). Off by default: one round trip per injection, the
    # simplest ordering guarantee, is what every other test relies on.
    share_barriers: bool = False
    # Names of the default guild, its channels and users; ids are generated.
    guild_name: str = "Cadenza Test Server"
    channel_names: tuple[str, ...] = ("general", "music")
    user_names: tuple[str, ...] = ("alice", "bob")
    bot_name: str = "Cadenza"

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("token must not be empty")
        if self.initial_response_timeout <= 0:
            raise ValueError("initial_response_timeout must be positive")
        if self.token_lifetime < self.initial_response_timeout:
            raise ValueError("token_lifetime must be at least initial_response_timeout")
        if self.upload_limit <= 0:
            raise ValueError("upload_limit must be positive")
        if self.heartbeat_interval_ms < 100:
            raise ValueError("heartbeat_interval_ms must be at least 100")
        if not self.channel_names or not self.user_names:
            raise ValueError("need at least one channel and one user")


# Discord JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
UNKNOWN_APPLICATION_COMMAND = 10063
REQUEST_TOO_LARGE = 40005
ALREADY_ACKNOWLEDGED = 40060
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
INVALID_WEBHOOK_TOKEN = 50027
