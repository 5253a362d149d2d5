"""In a real headless Chromium: the piece page plays and its playhead moves; the tree's links open turns."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.browser import CHROMEDRIVER, chromium, served_world
from tests.web.world import World
from web import WebFront

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMEDRIVER) is None, reason="needs Debian's chromium and chromium-driver (make setup)"
)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with chromium(tmp_path / "profile") as browser:
        yield browser


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[WebFront, World]]:
    async with served_world(tmp_path / "data") as running:
        yield running


def play_for_a_second(driver: webdriver.Chrome, url: str) -> tuple[float, float, float]:
    """Open the piece, play until the clock passes 1 s; the playhead's left (%) before and after, and the time."""
    driver.get(url)
    head = "return parseFloat(document.getElementById('playhead').style.left)"
    WebDriverWait(driver, 120).until(
        lambda d: d.execute_script("return document.getElementById('player').readyState >= 3")
    )
    before = driver.execute_script(head)
    driver.execute_async_script("document.getElementById('player').play().then(arguments[0], arguments[0])")
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.getElementById('player').currentTime >= 1")
    )
    driver.execute_script("document.getElementById('player').pause()")
    return (
        before,
        driver.execute_script(head),
        driver.execute_script("return document.getElementById('player').currentTime"),
    )


async def test_playing_a_piece_moves_the_playhead_along_the_roll(
    served: tuple[WebFront, World], driver: webdriver.Chrome
) -> None:
    front, world = served
    before, after, played = await asyncio.to_thread(
        play_for_a_second, driver, front.piece_url(world.piece.id)
    )
    left, right = 52 / 1200 * 100, 1188 / 1200 * 100  # the roll's time axis, in % of its width
    assert before == pytest.approx(left, abs=0.01)
    expected = left + (right - left) * played / 6.0  # the tune's notes end at 6 s
    assert after > before + 5 and after == pytest.approx(expected, abs=1.0)


def follow_tree_link(driver: webdriver.Chrome, session_url: str, number: int) -> tuple[str, str]:
    driver.get(session_url)
    driver.find_element(By.ID, f"tree-turn-{number}").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url != session_url)
    return driver.current_url, driver.find_element(By.ID, "title").text


async def test_a_link_in_the_session_tree_opens_that_turn(
    served: tuple[WebFront, World], driver: webdriver.Chrome
) -> None:
    front, world = served
    url, title = await asyncio.to_thread(follow_tree_link, driver, front.session_url(world.session.id), 3)
    assert url == front.piece_url(world.turns[2].id) and title == "Harbour lights: remix"
