"""`cadenza bot`: start the Discord bot, or explain how to get a token when there is none."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

import web
from bot.pages import FrontStarter, PageFront
from bot.storage import Storage
from cadenza.errors import ConfigError
from launch.config import Config, read_dotenv
from render import RenderPool

TOKEN_HELP = """\
Cadenza needs a Discord bot token, and DISCORD_TOKEN is not set.

  1. Open https://discord.com/developers/applications, "New Application", name it (e.g. Cadenza).
  2. In "Bot": "Reset Token" and copy it. No privileged intents are needed (Cadenza uses slash
     commands, buttons and attachments; it does not read message content).
  3. In "OAuth2 > URL Generator": scopes `bot` and `applications.commands`; bot permissions
     Send Messages, Send Messages in Threads, Create Public Threads, Embed Links, Attach Files,
     Read Message History. Open the generated URL to invite the bot to your server.
  4. Give the token to Cadenza, either
        export DISCORD_TOKEN=your-token          (this shell only)
     or put the line  DISCORD_TOKEN=your-token  in a file named .env here (git ignores it).
  5. Run `make run` again.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza bot`."""
    parser.add_argument(
        "--shards", default=None, help="shard range for this process, e.g. 0-3 of 8 as '0-3/8'"
    )


def run(args: argparse.Namespace, config: Config) -> int:
    """Start the bot; without a token print how to get one and return 1."""
    token = (
        config.secrets.discord_token or read_dotenv().get("DISCORD_TOKEN") or os.environ.get("DISCORD_TOKEN")
    )
    if not token:
        print(TOKEN_HELP)
        return 1
    front = web_front(config, {**read_dotenv(), **os.environ})
    from bot.app import run_bot  # heavy imports (discord.py, torch) only when actually starting

    return run_bot(config.serving(), token, shards=args.shards, front=front)


def web_front(config: Config, env: Mapping[str, str]) -> FrontStarter | None:
    """What starts the web pages beside the bot when `[web] enabled = true` (None when off).

    The secret is read here, before the bot starts, so a missing one stops start-up with its message.
    """
    if not config.web.enabled:
        return None
    try:
        secret = web.secret_from_env(env)
    except ConfigError as e:
        raise ConfigError(f"[web] enabled = true, but {e}; or set enabled = false") from e

    async def start(storage: Storage, render_pool: RenderPool) -> PageFront:
        return await web.start_web(
            storage,
            config.web,
            secret,
            render_pool,
            data_dir=config.app.data_dir,
            mix_crossfade_s=config.sessions.mix_crossfade_s,
        )

    return start
