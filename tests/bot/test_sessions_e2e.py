"""Community remix sessions end to end: the real bot and tiny model through the Discord emulator.

Three members take eight turns (start, continue, remix, harmonize, an uploaded clip, two branches
and a continuation of a branch) with a bot restart in the middle; then votes, /session top, the
tree picture, a mix checked against the stored turns, and who may lock and end a session.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import pytest_asyncio
from PIL import Image

from bot.storage import Storage
from model.checkpoint import read_meta
from render.edits import length_s, markers
from tests.bot.conftest import COMMANDS, USERS, Harness, melody_midi, toml_value, write_config
from tests.discord_emulator import BotProcess, Emulator, EmulatorSettings, InteractionTrace, Reply, ReplyKind

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
TURN_TIMEOUT = 180.0  # the first piece also warms the model and renderer on a busy 2-core machine
CROSSFADE_S = 0.3
SESSIONS = {
    "turns_per_member_per_hour": 20,
    "max_turns": 30,
    "turn_seconds": 2,
    "mix_crossfade_s": CROSSFADE_S,
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cadenza(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    """The bot with short turns: conftest's test config plus a [sessions] table."""
    emu = Emulator(EmulatorSettings(user_names=USERS))
    await emu.start()
    folder = tmp_path_factory.mktemp("cadenza_sessions")
    config = write_config(folder / "config.toml", folder / "data", tiny_checkpoint, emu.cdn_host)
    table = "\n".join(f"{k} = {toml_value(v)}" for k, v in SESSIONS.items())
    config.write_text(config.read_text() + f"[sessions]\n{table}\n")
    proc = BotProcess(emu, (), env={"CADENZA_CONFIG": str(config)}, log_path=folder / "bot.log")
    harness = Harness(emu, proc, config)
    await proc.start()
    await emu.wait_ready(timeout=120)
    await emu.wait_synced((*COMMANDS, "session"), timeout=120)
    yield harness
    await harness.proc.stop()
    await harness.emu.stop()
    harness.emu.assert_no_unknown_routes()


def turn_piece(reply: Reply) -> str:
    """The piece id a turn's buttons act on."""
    for custom_id in reply.custom_ids():
        match = re.fullmatch(r"cadenza:turn:continue:(\S+)", custom_id)
        if match:
            return match.group(1)
    raise AssertionError(f"no turn buttons on {reply.custom_ids()}")


def turn_title(reply: Reply) -> str:
    """The turn embed's title ("Turn #3: Alice remixed #2")."""
    return str(reply.embeds[-1]["title"])


async def turn_reply(trace: InteractionTrace) -> Reply:
    """The turn posted in answer to an interaction (public, with MP3, MIDI, piano roll, five buttons)."""
    reply = await trace.followup(timeout=TURN_TIMEOUT)
    assert not reply.ephemeral and not trace.refusals, (reply.embeds, trace.refusals)
    assert_turn_files(reply)
    return reply


def assert_turn_files(reply: Reply) -> None:
    assert reply.file("piece.mp3").data[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert reply.file("piece.mid").data[:4] == b"MThd"
    assert reply.file("piece.png").data[:8] == b"\x89PNG\r\n\x1a\n"
    labels = [c["label"] for c in reply.walk_components() if c.get("type") == 2]
    assert labels == ["Continue", "Remix", "Harmonize", "Rewrite bars", "Branch", "Like"]
    assert reply.file("score.png").data[:8] == b"\x89PNG\r\n\x1a\n"


async def ephemeral_text(trace: InteractionTrace) -> str:
    """What an ephemeral reply (a message, or an error embed) said."""
    reply = await trace.reply(lambda r: r.ephemeral, timeout=TURN_TIMEOUT, what="an ephemeral reply")
    return str(reply.content or "") + " ".join(str(e.get("description", "")) for e in reply.embeds)


async def test_three_members_build_a_session_across_a_restart(
    cadenza: Harness, tiny_checkpoint: Path
) -> None:
    emu = cadenza.emu
    genres = list(read_meta(tiny_checkpoint)["genres"])
    subcommands = {o["name"]: o for o in emu.command("session")["options"]}
    assert set(subcommands) == {"start", "add", "top", "tree", "mix", "lock", "unlock", "end"}
    start_options = {o["name"]: o for o in subcommands["start"]["options"]}
    assert [c["value"] for c in start_options["genre"]["choices"]] == genres
    assert [o["name"] for o in subcommands["add"]["options"]] == ["clip"]
    start = await emu.slash("session start", {"title": "Test jam", "genre": genres[0]}, user="bob")
    opened = await start.followup(timeout=TURN_TIMEOUT)
    first = await emu.wait_reply(
        lambda r: (
            r.kind is ReplyKind.CHANNEL_MESSAGE and bool(r.embeds) and r.embeds[0]["title"] == "🎶 Test jam"
        ),
        timeout=TURN_TIMEOUT,
    )
    thread = first.channel_id
    assert thread is not None and f"<#{thread}>" in (opened.content or "")
    assert_turn_files(first)
    assert turn_title(first).startswith("Turn #1: Bob started")
    t1 = turn_piece(first)

    second = await turn_reply(await emu.press_button(first, f"cadenza:turn:continue:{t1}", user="carol"))
    assert turn_title(second) == "Turn #2: Carol continued #1"
    t2 = turn_piece(second)

    opened_modal = await emu.press_button(second, f"cadenza:turn:remix:{t2}", user="alice")
    remix = {"genre": genres[-1], "sound": "strings", "tempo": "100"}
    third = await turn_reply(await emu.submit_modal(opened_modal, remix, user="alice"))
    assert turn_title(third) == "Turn #3: Alice remixed #2"
    t3 = turn_piece(third)

    fourth = await turn_reply(await emu.press_button(third, f"cadenza:turn:harmonize:{t3}", user="bob"))
    assert turn_title(fourth) == "Turn #4: Bob harmonized #3"
    t4 = turn_piece(fourth)

    clip = await emu.upload_attachment("riff.mid", melody_midi(), "audio/midi", channel=thread)
    fifth = await turn_reply(
        await emu.slash("session add clip", {"clip": clip}, user="carol", channel=thread)
    )
    assert turn_title(fifth) == "Turn #5: Carol spliced in a clip after #4"
    t5 = turn_piece(fifth)

    await cadenza.restart()  # in the middle of the session: the buttons posted before must still work

    menu_trace = await emu.press_button(fifth, f"cadenza:turn:branch:{t5}", user="alice")
    menu = await menu_trace.response(timeout=30)
    assert menu.ephemeral
    select = next(c for c in menu.walk_components() if c.get("type") == 3)
    assert [o["value"] for o in select["options"]] == [t5, t4, t3, t2, t1]
    sixth = await turn_reply(await emu.select(menu, select["custom_id"], [t2], user="alice"))
    assert turn_title(sixth) == "Turn #6: Alice branched from #2"
    t6 = turn_piece(sixth)

    seventh = await turn_reply(await emu.press_button(sixth, f"cadenza:turn:continue:{t6}", user="bob"))
    assert turn_title(seventh) == "Turn #7: Bob continued #6"
    t7 = turn_piece(seventh)
    # Continue on an old turn is a branch too.
    eighth = await turn_reply(await emu.press_button(first, f"cadenza:turn:continue:{t1}", user="carol"))
    assert turn_title(eighth) == "Turn #8: Carol branched from #1"

    # -- votes and /session top ------------------------------------------------------------------
    for who in ("alice", "bob"):
        said = await ephemeral_text(await emu.press_button(third, f"cadenza:turn:vote:{t3}", user=who))
        assert "You like turn #3" in said
    for expected in ("You like", "You took back", "You like"):
        said = await ephemeral_text(await emu.press_button(sixth, f"cadenza:turn:vote:{t6}", user="carol"))
        assert said.startswith(expected)
    top = await (await emu.slash("session top", user="alice", channel=thread)).response(timeout=30)
    lines = top.embeds[0]["description"].splitlines()
    assert lines[0] == "**1.** Turn #3 by Alice · remix · 2 likes"
    assert lines[1] == "**2.** Turn #6 by Alice · continue · 1 like"

    await check_tree(emu, thread)
    await check_mix(cadenza, thread, [t1, t2, t6, t7])
    await check_permissions(emu, thread, seventh, t7)


async def check_tree(emu: Emulator, thread: int) -> None:
    reply = await (await emu.slash("session tree", user="carol", channel=thread)).followup(timeout=60)
    png = reply.file("session_tree.png").data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    height, width, _ = picture.shape
    assert width >= 500 and height >= 500  # eight turns four generations deep
    colours = {tuple(c) for c in picture.reshape(-1, 3)[::7]}
    assert len(colours) > 20  # boxes, lines and text, not a blank canvas


async def check_mix(cadenza: Harness, thread: int, path: list[str]) -> None:
    reply = await (
        await cadenza.emu.slash("session mix", {"turn": 7}, user="alice", channel=thread)
    ).followup(timeout=TURN_TIMEOUT)
    assert reply.file("mix.mp3").data[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert reply.file("mix.png").data[:8] == b"\x89PNG\r\n\x1a\n"
    mix = pretty_midi.PrettyMIDI(io.BytesIO(reply.file("mix.mid").data))
    async with await Storage.open(cadenza.database) as storage:
        turns = [await storage.get_turn(pid) for pid in path]
        parts = [pretty_midi.PrettyMIDI(io.BytesIO((await storage.get_piece(pid)).midi)) for pid in path]
    marks = markers(mix)
    assert [number for number, _ in marks] == [t.number for t in turns] == [1, 2, 6, 7]
    lengths = [length_s(p) for p in parts]  # where each part's last note ends
    assert mix.get_end_time() == pytest.approx(sum(lengths) - CROSSFADE_S * (len(parts) - 1), abs=0.02)
    offsets = [offset for _, offset in marks]
    expected = [sum(lengths[:i]) - CROSSFADE_S * i for i in range(len(parts))]  # each overlaps the last
    assert offsets == pytest.approx(expected, abs=0.02)
    mixed = [(n.pitch, n.start) for inst in mix.instruments for n in inst.notes]
    for offset, part in zip(offsets, parts, strict=True):
        for note in (n for inst in part.instruments for n in inst.notes):
            assert any(p == note.pitch and abs(s - (note.start + offset)) < 0.02 for p, s in mixed), (
                f"note {note} of a part is missing from the mix at offset {offset}"
            )
    assert len(mixed) == sum(len(i.notes) for p in parts for i in p.instruments)


async def check_permissions(emu: Emulator, thread: int, latest: Reply, latest_piece: str) -> None:
    refused = await ephemeral_text(await emu.slash("session end", user="carol", channel=thread))
    assert "Only the member who started this session" in refused
    locked = await (await emu.slash("session lock", user="bob", channel=thread)).response(timeout=30)
    assert not locked.ephemeral and "locked the session" in (locked.content or "")
    no_turn = await ephemeral_text(
        await emu.press_button(latest, f"cadenza:turn:continue:{latest_piece}", user="carol")
    )
    assert "locked" in no_turn
    # The server owner (Manage Threads) may unlock and end a session she did not start.
    assert "unlocked" in (
        (await (await emu.slash("session unlock", user="alice", channel=thread)).response()).content or ""
    )
    ended = await (await emu.slash("session end", user="alice", channel=thread)).response(timeout=30)
    assert "ended the session" in (ended.content or "")
    tree_after_end = await (await emu.slash("session tree", user="carol", channel=thread)).followup(
        timeout=60
    )
    assert tree_after_end.file("session_tree.png").data[:4] == b"\x89PNG"


async def test_a_start_whose_first_turn_fails_leaves_no_thread_or_session_behind(cadenza: Harness) -> None:
    emu = cadenza.emu
    threads_before = sum(c.is_thread for c in emu.world.channels.values())
    silence = pretty_midi.PrettyMIDI(initial_tempo=100)
    silence.instruments.append(pretty_midi.Instrument(program=0))  # a track without a single note
    data = io.BytesIO()
    silence.write(data)
    clip = await emu.upload_attachment("silence.mid", data.getvalue(), "audio/midi")
    start = await emu.slash("session start", {"title": "Quiet jam", "clip": clip}, user="member01")
    said = await ephemeral_text(start)
    assert "notes" in said, said
    assert sum(c.is_thread for c in emu.world.channels.values()) == threads_before
    database = cadenza.config.parent / "data" / "cadenza.db"
    with closing(sqlite3.connect(database)) as db:
        (sessions,) = db.execute("SELECT COUNT(*) FROM sessions WHERE title = 'Quiet jam'").fetchone()
    assert sessions == 0
