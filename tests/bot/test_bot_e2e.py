"""The real bot through the Discord emulator: commands, replies with files, buttons, modal, settings.

One bot serves the whole module (see conftest). Each test acts as its own member so the fairness
limits of one test never touch another.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import pytest_asyncio

from model.checkpoint import read_meta
from tests.bot.conftest import Harness, StartCadenza, melody_midi, melody_wav
from tests.discord_emulator import CallbackType, CdnFile, InteractionTrace, Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")
PIECE_TIMEOUT = 180.0  # the first piece also warms up the model and renderer on a busy 2-core machine
MANAGE_GUILD = 1 << 5


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cadenza(cadenza_bot: StartCadenza) -> Harness:
    """The bot with the test config's generous limits."""
    return await cadenza_bot()


@pytest.fixture(scope="module")
def genres(tiny_checkpoint: Path) -> list[str]:
    """The tiny model's genres: the choices the bot must offer."""
    return list(read_meta(tiny_checkpoint)["genres"])


async def piece_reply(trace: InteractionTrace) -> Reply:
    """Check the interaction was deferred publicly, then return the result followup."""
    first = await trace.response(timeout=10)
    assert first.callback_type is CallbackType.DEFERRED_CHANNEL_MESSAGE and not first.ephemeral
    reply = await trace.followup(timeout=PIECE_TIMEOUT)
    assert not trace.refusals, trace.refusals
    return reply


async def refusal_text(trace: InteractionTrace) -> str:
    """The ephemeral error a member saw (as the first response or after a deferral)."""
    reply = await trace.reply(
        lambda r: r.ephemeral and bool(r.embeds), timeout=PIECE_TIMEOUT, what="an ephemeral error"
    )
    return str(reply.embeds[0].get("description", ""))


def field(reply: Reply, name: str) -> str:
    """An embed field's value."""
    return next(f["value"] for f in reply.embeds[0]["fields"] if f["name"] == name)


def piece_id(reply: Reply) -> str:
    """The stored piece's id, from the embed footer."""
    match = re.match(r"piece (\S+)", reply.embeds[0]["footer"]["text"])
    assert match, reply.embeds[0]["footer"]
    return match.group(1)


def assert_piece_files(reply: Reply) -> None:
    """MP3, MIDI, the piano roll as the embed image, the score (PNG and MusicXML), and the four buttons."""
    assert reply.file("piece.mp3").data[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert reply.file("piece.mid").data[:4] == b"MThd"
    assert reply.file("piece.png").data[:8] == b"\x89PNG\r\n\x1a\n"
    assert reply.file("score.png").data[:8] == b"\x89PNG\r\n\x1a\n"
    assert ElementTree.fromstring(reply.file("piece.musicxml").data).tag == "score-partwise"
    assert reply.embeds[0]["image"]["url"] == "attachment://piece.png"
    assert {b["label"] for b in reply.walk_components() if b.get("type") == 2} == {
        "Another take",
        "Continue",
        "Remix",
        "Rewrite bars",
    }
    pid = piece_id(reply)
    assert set(reply.custom_ids()) == {
        f"cadenza:take:{pid}",
        f"cadenza:continue:{pid}",
        f"cadenza:remix:{pid}",
        f"cadenza:rewrite:{pid}",
    }


# -- the command tree ----------------------------------------------------------------------------


async def test_command_tree_is_synced_with_options_choices_and_ranges(
    cadenza: Harness, genres: list[str]
) -> None:
    compose = cadenza.emu.command("compose")
    options = {o["name"]: o for o in compose["options"]}
    assert list(options) == ["genre", "length", "key", "tempo", "sound", "creativity", "seed", "clip"]
    assert compose["description"] == "Compose a new piece of music."
    assert [o["name"] for o in compose["options"] if o.get("required")] == ["genre", "length"]
    assert [c["value"] for c in options["genre"]["choices"]] == genres
    assert (options["length"]["type"], options["length"]["min_value"], options["length"]["max_value"]) == (
        4,
        1,
        20,
    )
    assert [c["value"] for c in options["creativity"]["choices"]] == ["safe", "balanced", "adventurous"]
    assert "piano" in [c["value"] for c in options["sound"]["choices"]]
    assert options["clip"]["type"] == 11 and options["seed"]["min_value"] == 0
    assert all(o["description"] for o in options.values())
    cont = {o["name"]: o for o in cadenza.emu.command("continue")["options"]}
    assert cont["clip"]["type"] == 11 and cont["clip"]["required"]
    assert [c["value"] for c in cont["genre"]["choices"]] == genres
    menu = cadenza.emu.command("Continue with Cadenza", type=3)
    assert menu["type"] == 3
    group = cadenza.emu.command("cadenza")
    assert int(group["default_member_permissions"]) == MANAGE_GUILD
    assert [o["name"] for o in group["options"]] == ["settings"]
    assert {"genres", "help"} <= {c["name"] for c in cadenza.emu.commands.synced(None)}


# -- /compose ------------------------------------------------------------------------------------


async def test_compose_in_every_genre(cadenza: Harness, genres: list[str]) -> None:
    traces = [
        await cadenza.emu.slash("compose", {"genre": g, "length": 2}, user=f"member{i:02d}")
        for i, g in enumerate(genres)
    ]
    for genre, trace in zip(genres, traces, strict=True):
        reply = await piece_reply(trace)
        assert_piece_files(reply)
        assert field(reply, "Genre") == genre


async def test_compose_with_every_option(cadenza: Harness, genres: list[str]) -> None:
    options = {
        "genre": genres[-1],
        "length": 3,
        "key": "D minor",
        "tempo": 90,
        "sound": "strings",
        "creativity": "safe",
        "seed": 4242,
    }
    trace = await cadenza.emu.slash("compose", options, user="carol")
    reply = await piece_reply(trace)
    assert_piece_files(reply)
    assert "D minor" in field(reply, "Key")
    assert field(reply, "Tempo") == "90 bpm"
    assert field(reply, "Seed") == "`4242`"
    assert field(reply, "Sound") == "strings"
    assert field(reply, "Creativity") == "safe"
    assert trace.edits and trace.edits[-1].content.startswith("✅ Composed")  # progress was shown, then done


async def test_same_seed_gives_the_same_music(cadenza: Harness, genres: list[str]) -> None:
    options = {"genre": genres[0], "length": 2, "seed": 77}
    first = await cadenza.emu.slash("compose", options, user="member10")
    second = await cadenza.emu.slash("compose", options, user="member11")
    a, b = await piece_reply(first), await piece_reply(second)
    assert a.file("piece.mid").data == b.file("piece.mid").data


# -- clips, MIDI and the context menu ------------------------------------------------------------


async def test_continue_an_audio_clip(cadenza: Harness) -> None:
    clip = await cadenza.emu.upload_attachment("hummed.wav", melody_wav(), "audio/wav")
    reply = await piece_reply(
        await cadenza.emu.slash("continue", {"clip": clip, "length": 2}, user="member12")
    )
    assert_piece_files(reply)
    assert "hummed.wav" in reply.embeds[0]["title"]


async def test_continue_a_midi_file(cadenza: Harness, genres: list[str]) -> None:
    clip = await cadenza.emu.upload_attachment("tune.mid", melody_midi(), "audio/midi")
    options = {"clip": clip, "genre": genres[0], "length": 2}
    reply = await piece_reply(await cadenza.emu.slash("continue", options, user="member13"))
    assert_piece_files(reply)
    assert field(reply, "Genre") == genres[0]


async def test_compose_with_a_clip_continues_it(cadenza: Harness, genres: list[str]) -> None:
    clip = await cadenza.emu.upload_attachment("tune.mid", melody_midi(), "audio/midi")
    options = {"genre": genres[0], "length": 2, "clip": clip}
    reply = await piece_reply(await cadenza.emu.slash("compose", options, user="member14"))
    assert "tune.mid" in reply.embeds[0]["title"]


async def test_context_menu_continues_a_message_with_midi(cadenza: Harness) -> None:
    clip = await cadenza.emu.upload_attachment("idea.mid", melody_midi(), "audio/midi")
    message = await cadenza.emu.post_message("my idea", user="member15", attachments=[clip])
    trace = await cadenza.emu.context_menu("Continue with Cadenza", message, user="member15")
    assert_piece_files(await piece_reply(trace))


async def test_context_menu_continues_a_voice_message(cadenza: Harness) -> None:
    clip = await cadenza.emu.upload_attachment("voice-message.ogg", _ogg_of(melody_wav()), "audio/ogg")
    message = await cadenza.emu.post_message("", user="member16", attachments=[clip])
    trace = await cadenza.emu.context_menu("Continue with Cadenza", message, user="member16")
    assert_piece_files(await piece_reply(trace))


async def test_context_menu_continues_a_cadenza_piece(cadenza: Harness, genres: list[str]) -> None:
    parent = await piece_reply(
        await cadenza.emu.slash("compose", {"genre": genres[0], "length": 2}, user="member17")
    )
    trace = await cadenza.emu.context_menu("Continue with Cadenza", parent, user="member17")
    reply = await piece_reply(trace)
    assert f"from piece {piece_id(parent)}" in reply.embeds[0]["footer"]["text"]


async def test_context_menu_on_a_message_without_music_is_refused(cadenza: Harness) -> None:
    message = await cadenza.emu.post_message("just words", user="member18")
    trace = await cadenza.emu.context_menu("Continue with Cadenza", message, user="member18")
    assert "no audio or MIDI attachment" in await refusal_text(trace)
    assert (await trace.response()).ephemeral


# -- buttons and the Remix modal -----------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def a_piece(cadenza: Harness, genres: list[str]) -> Reply:
    """One piece whose buttons the tests press."""
    options = {"genre": genres[0], "length": 2, "seed": 1234, "tempo": 100}
    return await piece_reply(await cadenza.emu.slash("compose", options, user="member19"))


async def test_another_take_keeps_settings_with_a_new_seed(cadenza: Harness, a_piece: Reply) -> None:
    trace = await cadenza.emu.press_button(a_piece, f"cadenza:take:{piece_id(a_piece)}", user="member20")
    reply = await piece_reply(trace)
    assert field(reply, "Tempo") == "100 bpm" and field(reply, "Genre") == field(a_piece, "Genre")
    assert field(reply, "Seed") != "`1234`"
    assert f"from piece {piece_id(a_piece)}" in reply.embeds[0]["footer"]["text"]


async def test_continue_button_extends_the_piece(cadenza: Harness, a_piece: Reply) -> None:
    trace = await cadenza.emu.press_button(a_piece, f"cadenza:continue:{piece_id(a_piece)}", user="member21")
    reply = await piece_reply(trace)
    assert f"from piece {piece_id(a_piece)}" in reply.embeds[0]["footer"]["text"]
    assert "continued" in reply.embeds[0]["title"]


async def test_remix_modal_changes_genre_sound_and_tempo(
    cadenza: Harness, a_piece: Reply, genres: list[str]
) -> None:
    opened = await cadenza.emu.press_button(a_piece, f"cadenza:remix:{piece_id(a_piece)}", user="member22")
    modal = (await opened.response()).modal
    assert modal is not None and modal["title"] == "Remix this piece"
    target = genres[-1]
    submitted = await cadenza.emu.submit_modal(opened, {"genre": target, "sound": "chiptune", "tempo": "132"})
    reply = await piece_reply(submitted)
    assert (field(reply, "Genre"), field(reply, "Sound"), field(reply, "Tempo")) == (
        target,
        "chiptune",
        "132 bpm",
    )
    assert "remixed" in reply.embeds[0]["title"]


async def test_remix_modal_with_a_bad_tempo_is_refused(cadenza: Harness, a_piece: Reply) -> None:
    opened = await cadenza.emu.press_button(a_piece, f"cadenza:remix:{piece_id(a_piece)}", user="member23")
    submitted = await cadenza.emu.submit_modal(opened, {"tempo": "fast"})
    assert "tempo must be a number" in await refusal_text(submitted)


async def test_button_of_an_unknown_piece_is_refused(cadenza: Harness, a_piece: Reply) -> None:
    message = cadenza.emu.message(a_piece)
    for row in message["components"]:
        for button in row["components"]:
            button["custom_id"] = button["custom_id"].rsplit(":", 1)[0] + ":doesnotexist"
    cadenza.emu.messages[int(message["id"])] = message
    trace = await cadenza.emu.press_button(message, "cadenza:take:doesnotexist", user="member24")
    assert "does not exist" in await refusal_text(trace)


# -- info and settings ---------------------------------------------------------------------------


async def test_genres_lists_each_genre_with_its_sources(cadenza: Harness, genres: list[str]) -> None:
    reply = await (await cadenza.emu.slash("genres", user="member25")).response()
    assert reply.ephemeral
    text = reply.embeds[0]["description"]
    assert all(f"**{g}**" in text for g in genres)
    assert "learned from" in text


async def test_help_explains_every_command(cadenza: Harness) -> None:
    reply = await (await cadenza.emu.slash("help", user="member26")).response()
    text = reply.embeds[0]["description"]
    for name in ("/compose", "/continue", "Continue with Cadenza", "/genres", "/cadenza settings", "Remix"):
        assert name in text


async def test_settings_are_stored_and_used(cadenza: Harness, genres: list[str]) -> None:
    changed = await cadenza.emu.slash(
        "cadenza settings", {"genre": genres[-1], "max_length": 10}, user="alice"
    )
    try:
        saved = await changed.response()
        assert saved.ephemeral and saved.embeds[0]["title"] == "Settings saved"
        shown = await (await cadenza.emu.slash("cadenza settings", user="alice")).response()
        assert field(shown, "Default genre") == genres[-1] and field(shown, "Longest piece") == "10 s"
        too_long = await cadenza.emu.slash("compose", {"genre": genres[0], "length": 12}, user="member27")
        assert "at most 10 s" in await refusal_text(too_long)
        clip = await cadenza.emu.upload_attachment("tune.mid", melody_midi(), "audio/midi")
        reply = await piece_reply(await cadenza.emu.slash("continue", {"clip": clip}, user="member28"))
        assert field(reply, "Genre") == genres[-1]
    finally:
        await (await cadenza.emu.slash("cadenza settings", {"reset": True}, user="alice")).response()


async def test_settings_need_manage_server(cadenza: Harness) -> None:
    trace = await cadenza.emu.slash("cadenza settings", {"max_length": 5}, user="bob")
    assert "Manage Server" in await refusal_text(trace)


# -- errors: always ephemeral, friendly, actionable ----------------------------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"genre": "polka", "length": 2}, "don't know the genre"),
        ({"genre": "GENRE", "length": 999}, "at most 20 s"),
        ({"genre": "GENRE", "length": 2, "tempo": 5}, "tempo must be between"),
        ({"genre": "GENRE", "length": 2, "key": "H major"}, "can't read the key"),
        ({"genre": "GENRE", "length": 2, "sound": "kazoo"}, "don't have the sound"),
        ({"genre": "GENRE", "length": 2, "creativity": "wild"}, "Creativity must be"),
        ({"genre": "GENRE", "length": 2, "seed": -5}, "seed must be"),
    ],
)
async def test_bad_options_are_refused_ephemerally(
    cadenza: Harness, genres: list[str], options: dict[str, Any], words: str
) -> None:
    options = {k: genres[0] if v == "GENRE" else v for k, v in options.items()}
    trace = await cadenza.emu.slash("compose", options, user="member29", validate=False)
    reply = await trace.response()
    assert reply.callback_type is CallbackType.CHANNEL_MESSAGE and reply.ephemeral
    assert words in reply.embeds[0]["description"]


async def test_attachment_too_large_is_refused_before_download(cadenza: Harness) -> None:
    clip = await cadenza.emu.upload_attachment("long.wav", bytes(500_000), "audio/wav")
    trace = await cadenza.emu.slash("continue", {"clip": clip}, user="member30")
    assert "clips can be at most" in await refusal_text(trace)
    assert not any(str(clip.id) in r.path for r in cadenza.emu.requests)


async def test_attachment_of_the_wrong_type_is_refused(cadenza: Harness) -> None:
    clip = await cadenza.emu.upload_attachment("notes.pdf", b"%PDF-1.4 hello", "application/pdf")
    trace = await cadenza.emu.slash("continue", {"clip": clip}, user="member31")
    assert "doesn't look like audio or MIDI" in await refusal_text(trace)


async def test_attachment_from_another_host_is_refused(cadenza: Harness) -> None:
    real = await cadenza.emu.upload_attachment("tune.mid", melody_midi(), "audio/midi")
    foreign = CdnFile(
        real.id, real.filename, real.data, real.content_type, "https://evil.example.com/tune.mid"
    )
    trace = await cadenza.emu.slash("continue", {"clip": foreign}, user="member32")
    assert "only download attachments from Discord" in await refusal_text(trace)


async def test_corrupt_clip_is_refused_after_download_and_the_public_message_removed(
    cadenza: Harness,
) -> None:
    clip = await cadenza.emu.upload_attachment("broken.mid", b"not a midi file at all" * 10, "audio/midi")
    trace = await cadenza.emu.slash("continue", {"clip": clip}, user="member33")
    assert (await trace.response()).deferred
    text = await refusal_text(trace)
    assert text and "incident" not in text
    await cadenza.emu.wait_for(
        lambda: trace.deleted_original or None, timeout=10, what="the thinking message removed"
    )


def _ogg_of(wav: bytes) -> bytes:
    """Opus-in-Ogg bytes of a WAV (what a Discord voice message is), encoded with ffmpeg."""
    import subprocess

    done = subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "wav",
            "-i",
            "pipe:0",
            "-c:a",
            "libopus",
            "-f",
            "ogg",
            "pipe:1",
        ],
        input=wav,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout


async def test_all_pieces_answered_without_refusals(cadenza: Harness) -> None:
    """Last: nothing the bot sent in this module was refused by Discord's rules."""
    assert not cadenza.emu.refusals, cadenza.emu.refusals[:3]
