"""Rewrite bars and accompany a melody, end to end: the real bot and tiny v2 model through the emulator.

The module's bot gives each member two requests an hour, so a refusal that used one shows: after
bad input a member must still make two pieces, and a third is refused. Rewrites may span 2 bars.
"""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pretty_midi
import pytest
import pytest_asyncio

from model.checkpoint import read_meta
from tests.bot.conftest import Harness, StartCadenza, melody_midi, melody_wav
from tests.bot.test_bot_e2e import field, piece_id, piece_reply, refusal_text
from tests.discord_emulator import CallbackType, InteractionTrace, Reply, ReplyKind

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
TIMEOUT = 180.0
PNG = b"\x89PNG\r\n\x1a\n"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cadenza(cadenza_bot: StartCadenza) -> Harness:
    """Two requests per member per hour; rewrites of at most 2 bars; 8-second session turns."""
    return await cadenza_bot(
        user_burst=2, user_refill_s=3600.0, max_rewrite_bars=2, tables={"sessions": {"turn_seconds": 8}}
    )


@pytest.fixture(scope="module")
def genres(tiny_checkpoint: Path) -> list[str]:
    return list(read_meta(tiny_checkpoint)["genres"])


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def a_piece(cadenza: Harness, genres: list[str]) -> Reply:
    """Eight seconds at 120 bpm: four bars or more to rewrite in."""
    options = {"genre": genres[0], "length": 8, "tempo": 120, "seed": 77}
    return await piece_reply(await cadenza.emu.slash("compose", options, user="alice"))


def stored_settings(cadenza: Harness, piece: str) -> dict[str, Any]:
    """A stored piece's settings, read from the bot's database file."""
    with closing(sqlite3.connect(cadenza.database.removeprefix("sqlite:///"))) as db:
        (settings,) = db.execute("SELECT settings FROM pieces WHERE id = ?", (piece,)).fetchone()
    return dict(json.loads(settings))


def assert_score_files(reply: Reply) -> None:
    """score.png is a PNG and piece.musicxml a MusicXML score with at least one part."""
    assert reply.file("score.png").data[:8] == PNG
    root = ElementTree.fromstring(reply.file("piece.musicxml").data)
    assert root.tag == "score-partwise" and root.findall("part")


def parts_of(reply: Reply) -> int:
    """Tracks with notes in the reply's piece.mid."""
    midi = pretty_midi.PrettyMIDI(io.BytesIO(reply.file("piece.mid").data))
    return sum(1 for inst in midi.instruments if inst.notes)


async def refused_at_once(trace: InteractionTrace) -> str:
    """An ephemeral refusal as the very first response: nothing was deferred, admitted or composed."""
    first = await trace.response(timeout=30)
    assert first.callback_type is CallbackType.CHANNEL_MESSAGE and first.ephemeral, first.raw
    return str(first.embeds[0].get("description", ""))


async def test_new_commands_are_synced(cadenza: Harness) -> None:
    rewrite = {o["name"]: o for o in cadenza.emu.command("rewrite")["options"]}
    assert list(rewrite) == ["piece", "bars"] and rewrite["piece"].get("autocomplete")
    accompany = {o["name"]: o for o in cadenza.emu.command("accompany")["options"]}
    assert list(accompany) == ["clip", "genre", "sound"] and accompany["clip"]["type"] == 11
    assert cadenza.emu.command("Accompany with Cadenza", type=3)["type"] == 3
    settings = cadenza.emu.command("cadenza")["options"][0]
    picture = next(o for o in settings["options"] if o["name"] == "picture")
    assert [c["value"] for c in picture["choices"]] == ["pianoroll", "score"]


async def test_every_piece_has_its_score_and_provenance(
    cadenza: Harness, a_piece: Reply, tiny_checkpoint: Path
) -> None:
    assert_score_files(a_piece)
    meta = read_meta(tiny_checkpoint)
    footer = a_piece.embeds[0]["footer"]["text"]
    assert f"corpus {meta['corpus_fingerprint']}" in footer and "seed 77" in footer
    provenance = stored_settings(cadenza, piece_id(a_piece))["provenance"]
    assert provenance["corpus_fingerprint"] == meta["corpus_fingerprint"] and provenance["seed"] == 77
    assert provenance["model"] and provenance["model"] in footer


async def test_rewrite_button_asks_for_bars_and_rewrites_them(cadenza: Harness, a_piece: Reply) -> None:
    parent = piece_id(a_piece)
    opened = await cadenza.emu.press_button(a_piece, f"cadenza:rewrite:{parent}", user="bob")
    modal = (await opened.response()).modal
    assert modal is not None and modal["title"] == "Rewrite bars"
    reply = await piece_reply(await cadenza.emu.submit_modal(opened, {"bars": "2-3"}, user="bob"))
    assert "rewritten" in reply.embeds[0]["title"]
    assert "bars 2–3 are new" in reply.embeds[0]["description"]
    assert "Bar 1 and bar" in reply.embeds[0]["description"]  # what was kept: bar 1 and the bars after 3
    assert f"from piece {parent}" in reply.embeds[0]["footer"]["text"]
    assert_score_files(reply)
    stored = stored_settings(cadenza, piece_id(reply))
    assert stored["rewritten_bars"] == [2, 3] and stored["provenance"]["parent_id"] == parent


async def test_rewrite_command_takes_a_piece_id_or_a_message_link(cadenza: Harness, a_piece: Reply) -> None:
    parent = piece_id(a_piece)
    by_id = await piece_reply(
        await cadenza.emu.slash("rewrite", {"piece": parent, "bars": "3"}, user="carol")
    )
    assert "bar 3 is new" in by_id.embeds[0]["description"]
    message = cadenza.emu.message(a_piece)
    link = (
        f"https://discord.com/channels/{message.get('guild_id', '@me')}/{a_piece.channel_id}/{message['id']}"
    )
    by_link = await piece_reply(
        await cadenza.emu.slash("rewrite", {"piece": link, "bars": "1"}, user="carol")
    )
    assert "bar 1 is new" in by_link.embeds[0]["description"]
    assert f"from piece {parent}" in by_link.embeds[0]["footer"]["text"]


@pytest.mark.parametrize(
    ("bars", "reason"),
    [
        ("3-2", "reversed"),
        ("40-41", "choose bars between 1 and"),
        ("1-3", "at most 2 bars"),
        (" ", "Write the bars to rewrite"),
        ("five", "can't read the bars"),
        ("0", "counted from 1"),
    ],
)
async def test_bad_bar_ranges_are_refused_at_once(
    cadenza: Harness, a_piece: Reply, bars: str, reason: str
) -> None:
    options = {"piece": piece_id(a_piece), "bars": bars}
    assert reason in await refused_at_once(await cadenza.emu.slash("rewrite", options, user="member01"))


async def test_bad_bar_ranges_cost_nothing_from_the_rate_limit(cadenza: Harness, a_piece: Reply) -> None:
    # member01 was refused five times above (and the form refuses as the command does):
    pid = piece_id(a_piece)
    opened = await cadenza.emu.press_button(a_piece, f"cadenza:rewrite:{pid}", user="member01")
    assert "reversed" in await refusal_text(await cadenza.emu.submit_modal(opened, {"bars": "4-2"}))
    for bars in ("2", "3"):  # still both requests of the hour
        await piece_reply(await cadenza.emu.slash("rewrite", {"piece": pid, "bars": bars}, user="member01"))
    third = await cadenza.emu.slash("rewrite", {"piece": pid, "bars": "2"}, user="member01")
    assert "composing fast" in await refused_at_once(third)


async def test_a_link_to_a_message_that_is_no_piece_is_refused(cadenza: Harness) -> None:
    message = await cadenza.emu.post_message("not music", user="member02")
    link = f"https://discord.com/channels/{message['guild_id']}/{message['channel_id']}/{message['id']}"
    trace = await cadenza.emu.slash("rewrite", {"piece": link, "bars": "2"}, user="member02")
    assert "not a Cadenza piece" in await refused_at_once(trace)


async def test_a_removed_piece_is_not_rewritten(cadenza: Harness, genres: list[str]) -> None:
    options = {"genre": genres[0], "length": 8, "tempo": 120, "seed": 5}
    removed = piece_id(await piece_reply(await cadenza.emu.slash("compose", options, user="member03")))
    with closing(sqlite3.connect(cadenza.database.removeprefix("sqlite:///"))) as db, db:
        db.execute(
            "UPDATE pieces SET removed_at = CURRENT_TIMESTAMP WHERE id = ?", (removed,)
        )  # as its page does
    trace = await cadenza.emu.slash("rewrite", {"piece": removed, "bars": "2"}, user="member04")
    assert "removed by its maker" in await refused_at_once(trace)


async def test_accompany_keeps_a_recorded_melody_and_adds_parts(cadenza: Harness, genres: list[str]) -> None:
    clip = await cadenza.emu.upload_attachment("humming.wav", melody_wav(), "audio/wav")
    options = {"clip": clip, "genre": genres[0], "sound": "strings"}
    reply = await piece_reply(await cadenza.emu.slash("accompany", options, user="member03"))
    assert reply.embeds[0]["title"].endswith("accompaniment of humming.wav")
    assert "Your melody, unchanged, with" in reply.embeds[0]["description"]
    assert field(reply, "Sound") == "strings" and parts_of(reply) >= 2
    assert_score_files(reply)


def two_melodies_midi() -> bytes:
    """Two instruments each playing a tune at the same time: no single melody to accompany."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    for program, base in ((0, 72), (40, 60)):
        inst = pretty_midi.Instrument(program=program)
        for i, step in enumerate((0, 2, 4, 5, 7, 5, 4, 2)):
            inst.notes.append(pretty_midi.Note(90, base + step, i * 0.5, i * 0.5 + 0.45))
        pm.instruments.append(inst)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


async def test_two_melodies_are_refused_and_cost_nothing_then_a_midi_is_accompanied(cadenza: Harness) -> None:
    emu = cadenza.emu
    duet = await emu.upload_attachment("duet.mid", two_melodies_midi(), "audio/midi")
    refused = await emu.slash("accompany", {"clip": duet}, user="member04")
    assert "one melody line" in await refusal_text(refused)
    tune = await emu.upload_attachment("tune.mid", melody_midi(), "audio/midi")
    message = await emu.post_message("my tune", user="member04", attachments=[tune])
    reply = await piece_reply(await emu.context_menu("Accompany with Cadenza", message, user="member04"))
    assert "Your melody, unchanged, with" in reply.embeds[0]["description"] and parts_of(reply) >= 2
    again = await emu.upload_attachment("tune2.mid", melody_midi(), "audio/midi")
    await piece_reply(await emu.slash("accompany", {"clip": again}, user="member04"))  # the second request


async def session_first_turn(cadenza: Harness, genres: list[str], user: str) -> Reply:
    start = await cadenza.emu.slash("session start", {"title": "Harmony", "genre": genres[0]}, user=user)
    await start.followup(timeout=TIMEOUT)
    return await cadenza.emu.wait_reply(
        lambda r: (
            r.kind is ReplyKind.CHANNEL_MESSAGE and bool(r.embeds) and r.embeds[0]["title"] == "🎶 Harmony"
        ),
        timeout=TIMEOUT,
    )


async def test_session_harmonize_uses_the_model_and_rewrite_is_a_turn(
    cadenza: Harness, genres: list[str]
) -> None:
    first = await session_first_turn(cadenza, genres, "member05")
    t1 = next(c.rsplit(":", 1)[1] for c in first.custom_ids() if c.startswith("cadenza:turn:continue:"))
    harmonized = await (
        await cadenza.emu.press_button(first, f"cadenza:turn:harmonize:{t1}", user="member06")
    ).followup(timeout=TIMEOUT)
    turn = harmonized.embeds[-1]
    assert turn["title"] == "Turn #2: Member06 harmonized #1"
    assert "by Cadenza." in turn["description"] and "by rule" not in turn["description"]
    assert "no model" not in turn["footer"]["text"] and parts_of(harmonized) >= 2
    assert_score_files(harmonized)
    opened = await cadenza.emu.press_button(first, f"cadenza:turn:rewrite:{t1}", user="member07")
    rewritten = await (await cadenza.emu.submit_modal(opened, {"bars": "2"})).followup(timeout=TIMEOUT)
    assert rewritten.embeds[-1]["title"] == "Turn #3: Member07 rewrote bars of #1"
    assert "bar 2 is new" in rewritten.embeds[-1]["description"]


async def test_the_server_can_show_the_score_instead_of_the_piano_roll(
    cadenza: Harness, genres: list[str]
) -> None:
    saved = await (await cadenza.emu.slash("cadenza settings", {"picture": "score"}, user="alice")).response()
    try:
        assert field(saved, "Picture") == "score"
        options = {"genre": genres[0], "length": 2}
        reply = await piece_reply(await cadenza.emu.slash("compose", options, user="member08"))
        assert reply.embeds[0]["image"]["url"] == "attachment://score.png"
        assert reply.file("piece.png").data[:8] == PNG  # the piano roll still comes along
    finally:
        await (await cadenza.emu.slash("cadenza settings", {"picture": "pianoroll"}, user="alice")).response()
