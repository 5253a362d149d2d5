"""The Discord emulator, exercised by a small unmodified discord.py bot run as a subprocess."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.discord_emulator import BotProcess, CallbackType, Emulator, EmulatorSettings, ReplyKind, StartBot

# The emulator's fixtures: discord_emulator, emulator_settings, start_bot.
pytest_plugins = ["tests.discord_emulator.fixtures"]

BOT = "tests.test_discord_emulator:run_test_bot"
COMMANDS = ("echo", "reverse", "fail", "slow", "later", "huge", "feedback", "double", "thread")


def run_test_bot(argv: list[str]) -> int:
    """A small discord.py bot, started by the emulator's launcher in a subprocess."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--guild-id", type=int, required=True)
    parser.add_argument("--slow", type=float, default=0.0)
    opts = parser.parse_args(argv)

    class Again(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="Again", custom_id="again")
        async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Again]) -> None:
            await interaction.response.edit_message(content=f"pressed by {interaction.user.name}", view=None)

        @discord.ui.select(
            custom_id="tempo", options=[discord.SelectOption(label=t, value=t) for t in ("slow", "fast")]
        )
        async def tempo(self, interaction: discord.Interaction, select: discord.ui.Select[Again]) -> None:
            await interaction.response.send_message(f"tempo {select.values[0]}", ephemeral=True)

    class Feedback(discord.ui.Modal, title="Feedback"):
        words: discord.ui.TextInput[Feedback] = discord.ui.TextInput(label="Your words", custom_id="words")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"you said: {self.words.value}", ephemeral=True)

    class TestBot(discord.Client):
        def __init__(self) -> None:
            super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.1)
            self.tree = app_commands.CommandTree(self)

        async def setup_hook(self) -> None:
            guild = discord.Object(opts.guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
            self.tree.clear_commands(guild=guild)
            await self.tree.sync()

    bot = TestBot()
    tree = bot.tree

    @tree.command(description="Say something back")
    @app_commands.describe(text="What to say", times="How often", mood="How to say it")
    @app_commands.choices(
        mood=[app_commands.Choice(name="Happy", value="happy"), app_commands.Choice(name="Sad", value="sad")]
    )
    async def echo(
        interaction: discord.Interaction,
        text: str,
        times: app_commands.Range[int, 1, 5] = 1,
        mood: str = "happy",
    ) -> None:
        await interaction.response.send_message(f"{' '.join([text] * times)} ({mood})", view=Again())

    @tree.command(description="Reverse an uploaded file")
    async def reverse(interaction: discord.Interaction, clip: discord.Attachment) -> None:
        await interaction.response.defer(thinking=True)
        data = await clip.read()  # downloaded from the emulator's CDN
        files = [
            discord.File(io.BytesIO(data[::-1]), "reversed.bin"),
            discord.File(io.BytesIO(b"notes"), "notes.txt"),
        ]
        await interaction.followup.send(f"{clip.filename}: {len(data)} bytes", files=files)

    @tree.command(description="Always fails")
    async def fail(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("That did not work.", ephemeral=True)

    @tree.command(description="Answers after --slow seconds")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(opts.slow)
        await interaction.response.send_message("late")

    @tree.command(description="Defers, then follows up after --slow seconds")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await asyncio.sleep(opts.slow)
        await interaction.followup.send("finally")

    @tree.command(description="Uploads 11 MiB")
    async def huge(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message(
                file=discord.File(io.BytesIO(b"\0" * (11 << 20)), "huge.bin")
            )
        except discord.HTTPException as e:
            await interaction.response.send_message(f"too big: {e.status} {e.code}", ephemeral=True)

    @tree.command(description="Opens a form")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @tree.command(description="Responds twice")
    async def double(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("once")
        interaction.response._response_type = None  # discord.py would refuse locally; let Discord refuse
        await interaction.response.send_message("twice")

    @tree.command(description="Starts a thread")
    async def thread(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("opening a thread", ephemeral=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        starter = await interaction.channel.send(
            "Jam session", file=discord.File(io.BytesIO(b"MThd"), "tune.mid")
        )
        jam = await starter.create_thread(name="jam")
        await jam.send("inside the thread")
        await starter.add_reaction("\N{MUSICAL NOTE}")

    @tree.context_menu(name="Shout")
    async def shout(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(message.content.upper())

    bot.run(os.environ["DISCORD_TOKEN"])
    return 0


async def start_test_bot(
    start_bot: StartBot, emu: Emulator, *extra: str, without_zstd: bool = False
) -> BotProcess:
    """The test bot, ready, with its commands synced."""
    args = ["--guild-id", str(emu.world.guild.id), *extra]
    return await start_bot(*args, call=BOT, without_zstd=without_zstd, commands=COMMANDS)


async def test_bot_logs_in_identifies_and_heartbeats(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    session = await emu.wait_ready()
    assert session.identify["token"] == emu.token
    assert session.identify["intents"] & 1  # GUILDS
    assert [p["t"] for p in session.sent[:2]] == ["READY", "GUILD_CREATE"]
    assert await emu.wait_heartbeats(1) >= 1
    paths = [r.path for r in emu.requests]
    assert "/api/v10/users/@me" in paths and "/api/v10/oauth2/applications/@me" in paths


async def test_ctrl_c_stops_a_bot_started_with_sigint_ignored(
    start_bot: StartBot, discord_emulator: Emulator
) -> None:
    # A shell without job control (`pytest ... &` in a script) starts its children with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = await start_test_bot(start_bot, discord_emulator)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert await proc.stop() == 0  # closed by Ctrl-C, not SIGKILLed when stop() gave up waiting


async def test_command_sync_is_recorded_with_options_choices_ranges(
    start_bot: StartBot, discord_emulator: Emulator
) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    echo = emu.command("echo")
    assert echo["description"] == "Say something back"
    text, times, mood = echo["options"]
    assert (text["name"], text["type"], text["required"], text["description"]) == (
        "text",
        3,
        True,
        "What to say",
    )
    assert (times["type"], times["min_value"], times["max_value"], times.get("required", False)) == (
        4,
        1,
        5,
        False,
    )
    assert [c["value"] for c in mood["choices"]] == ["happy", "sad"]
    assert emu.command("reverse")["options"][0]["type"] == 11  # attachment
    assert emu.command("Shout", type=3)["description"] == ""
    assert {c["name"] for c in emu.commands.synced(emu.world.guild.id)} >= set(COMMANDS)


async def test_deferral_then_followup_with_files(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    clip = await emu.upload_attachment("clip.wav", b"RIFF-0123456789")
    ix = await emu.slash("reverse", {"clip": clip}, user="bob")
    first = await ix.response()
    assert (
        first.callback_type is CallbackType.DEFERRED_CHANNEL_MESSAGE
        and first.deferred
        and not first.ephemeral
    )
    done = await ix.followup()
    assert done.message_id == first.message_id  # the first followup fills the "thinking" message
    assert done.content == "clip.wav: 15 bytes"
    assert done.file("reversed.bin").data == b"RIFF-0123456789"[::-1]
    assert [a["filename"] for a in done.attachments] == ["reversed.bin", "notes.txt"]
    async with aiohttp.ClientSession() as http, http.get(done.file("notes.txt").url) as resp:
        assert await resp.read() == b"notes"  # bot files are on the CDN too


async def test_ephemeral_error_reply(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    reply = await (await emu.slash("fail")).response()
    assert reply.ephemeral and reply.content == "That did not work."


async def test_button_press_updates_the_message(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    shown = await (await emu.slash("echo", {"text": "hi", "times": 2, "mood": "sad"})).response()
    assert shown.content == "hi hi (sad)" and shown.custom_ids() == ["again", "tempo"]
    press = await emu.press_button(shown, "again", user="bob")
    updated = await press.response()
    assert updated.callback_type is CallbackType.UPDATE_MESSAGE and updated.message_id == shown.message_id
    assert updated.content == "pressed by bob" and updated.components == []


async def test_select_menu_choice_reaches_the_view(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    shown = await (await emu.slash("echo", {"text": "hi"})).response()
    with pytest.raises(ValueError, match="not among options"):
        await emu.select(shown, "tempo", ["medium"])  # the Discord client offers only the options
    chosen = await (await emu.select(shown, "tempo", ["fast"])).response()
    assert chosen.ephemeral and chosen.content == "tempo fast"


async def test_modal_submit_and_message_context_menu(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    opened = await emu.slash("feedback")
    assert (await opened.response()).modal is not None
    answer = await (await emu.submit_modal(opened, {"words": "lovely"})).response()
    assert answer.ephemeral and answer.content == "you said: lovely"
    said = await emu.post_message("hello there", user="bob")
    shouted = await (await emu.context_menu("Shout", said)).response()
    assert shouted.content == "HELLO THERE"


async def test_reconnect_request_is_followed_by_resume_and_replay(
    start_bot: StartBot, discord_emulator: Emulator
) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    session = await emu.wait_ready()
    await emu.request_reconnect()
    ix = await emu.slash("echo", {"text": "still here"})  # sent while the bot reconnects
    resumed = await emu.wait_resumed()
    assert resumed is session and resumed.resumes[0]["session_id"] == session.session_id
    assert (await ix.response()).content == "still here (happy)"
    assert len(emu.gateway.sessions) == 1  # resumed, not identified again


@pytest.mark.parametrize(("without_zstd", "compression"), [(False, "zstd-stream"), (True, "zlib-stream")])
async def test_gateway_compression_mode(
    start_bot: StartBot, discord_emulator: Emulator, without_zstd: bool, compression: str
) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu, without_zstd=without_zstd)
    assert emu.gateway.connections[0].compression == compression
    assert (await (await emu.slash("fail")).response()).ephemeral


async def test_second_initial_response_is_refused(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    ix = await emu.slash("double")
    refusal = await ix.refusal()
    assert (refusal.status, refusal.code) == (400, 40060)
    assert [r.content for r in ix.replies] == ["once"]


async def test_upload_over_the_limit_is_refused_with_413(
    start_bot: StartBot, discord_emulator: Emulator
) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    ix = await emu.slash("huge")
    answer = await ix.response()
    assert (ix.refusals[0].status, ix.refusals[0].code) == (413, 40005)
    assert answer.ephemeral and answer.content == "too big: 413 40005"


async def test_channel_message_thread_and_reaction(start_bot: StartBot, discord_emulator: Emulator) -> None:
    emu = discord_emulator
    await start_test_bot(start_bot, emu)
    await emu.slash("thread")
    starter = await emu.wait_reply(
        lambda r: r.kind is ReplyKind.CHANNEL_MESSAGE and r.content == "Jam session"
    )
    assert starter.file("tune.mid").data == b"MThd"
    inside = await emu.wait_reply(lambda r: r.content == "inside the thread")
    assert inside.channel_id == starter.message_id  # a thread started from a message shares its id
    assert emu.world.channels[inside.channel_id or 0].name == "jam"
    await emu.wait_for(
        lambda: emu.reactions.get((starter.message_id or 0, "\N{MUSICAL NOTE}")), what="the reaction"
    )


class TestLateFirstResponse:
    @pytest.fixture
    def emulator_settings(self) -> EmulatorSettings:
        return EmulatorSettings(initial_response_timeout=0.3)

    async def test_first_response_after_the_deadline_is_refused(
        self, start_bot: StartBot, discord_emulator: Emulator
    ) -> None:
        emu = discord_emulator
        await start_test_bot(start_bot, emu, "--slow", "0.6")
        ix = await emu.slash("slow")
        refusal = await ix.refusal()
        assert (refusal.status, refusal.code, refusal.message) == (404, 10062, "Unknown interaction")
        assert ix.callback is None


class TestShortLivedTokens:
    @pytest.fixture
    def emulator_settings(self) -> EmulatorSettings:
        return EmulatorSettings(initial_response_timeout=0.3, token_lifetime=0.5)

    async def test_followup_after_the_token_expired_is_refused(
        self, start_bot: StartBot, discord_emulator: Emulator
    ) -> None:
        emu = discord_emulator
        await start_test_bot(start_bot, emu, "--slow", "0.8")
        ix = await emu.slash("later")
        assert (await ix.response()).deferred
        refusal = await ix.refusal()
        assert (refusal.status, refusal.code) == (401, 50027)
        assert ix.followups == []


def report_discord_setup(argv: list[str]) -> int:
    """Launcher target: print what discord.py will connect to, as the program would see it."""
    import discord.gateway
    import discord.http
    import discord.utils

    compression = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    print(discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY, compression, *argv)
    return 3


@pytest.mark.parametrize(("flags", "compression"), [([], "zstd-stream"), (["--without-zstd"], "zlib-stream")])
async def test_launcher_points_discord_at_the_emulator_before_the_program_runs(
    flags: list[str], compression: str
) -> None:
    cmd = [
        "-m",
        "tests.discord_emulator.launch",
        "--rest",
        "http://127.0.0.1:9/api/v10",
        "--gateway",
        "ws://127.0.0.1:9/",
    ]
    cmd += [*flags, "--call", "tests.test_discord_emulator:report_discord_setup", "--", "a", "b"]
    proc = await asyncio.create_subprocess_exec(sys.executable, *cmd, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 3
    assert out.decode().split() == ["http://127.0.0.1:9/api/v10", "ws://127.0.0.1:9/", compression, "a", "b"]


async def test_launcher_runs_the_cadenza_cli_by_default() -> None:
    cmd = [
        "-m",
        "tests.discord_emulator.launch",
        "--rest",
        "http://127.0.0.1:9/api/v10",
        "--gateway",
        "ws://127.0.0.1:9/",
    ]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *cmd, "--", "--help", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0 and "--shards" in out.decode()  # `cadenza bot --help`


async def test_unknown_routes_and_bad_tokens_are_answered_like_discord() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bot {emu.token}"}
        async with http.get(emu.rest_url + "/guilds/1/preview", headers=auth) as resp:
            assert resp.status == 404 and resp.headers["Content-Type"] == "application/json"
        async with http.get(emu.rest_url + "/users/@me", headers={"Authorization": "Bot wrong"}) as resp:
            assert resp.status == 401
        assert [r.path for r in emu.unknown_requests] == ["/api/v10/guilds/1/preview"]
        with pytest.raises(AssertionError, match="guilds/1/preview"):
            emu.assert_no_unknown_routes()
