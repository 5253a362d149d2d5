"""Headless Chromium (Debian's, driven by its chromedriver through Selenium) for the browser tests.

Also makes the README's screenshots: `python -m tests.web.browser docs/` serves the test world and
saves docs/web_piece.png and docs/web_session.png.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from bot.storage import Storage
from render import RenderPool
from tests.servers import free_port
from tests.web.conftest import RENDER, SECRET
from tests.web.world import World, build_world
from web import WebFront, WebSettings, start_web

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # the test presses play from a script
    "--mute-audio",  # the clock still runs; nothing comes out of the test machine's speakers
    "--window-size=1280,1500",
]


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile, closed at the end."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()


@asynccontextmanager
async def served_world(data_dir: Path) -> AsyncIterator[tuple[WebFront, World]]:
    """The test world served on a free port, its links pointing at that port (a browser follows them)."""
    port = free_port()
    settings = WebSettings(enabled=True, port=port, base_url=f"http://127.0.0.1:{port}", burst=10_000)
    storage = await Storage.open(f"sqlite:///{data_dir / 'cadenza.db'}")
    pool = RenderPool(RENDER)
    await pool.start()
    try:
        world = await build_world(storage)
        front = await start_web(storage, settings, SECRET, pool, data_dir=data_dir)
        try:
            yield front, world
        finally:
            await front.stop()
    finally:
        await pool.close()
        await storage.close()


def screenshot(driver: webdriver.Chrome, url: str, out: Path, ready_script: str) -> None:
    """Open `url`, wait until `ready_script` returns true, save a screenshot of the whole page."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 120).until(lambda d: d.execute_script(ready_script))
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(600, int(height)))
    driver.save_screenshot(str(out))


# The roll drawn and the player moved to 2.5 s (so the screenshot shows the playhead mid-piece).
ROLL_SHOWN = (
    "const i = document.querySelector('.roll img'), a = document.getElementById('player');"
    "if (a.readyState >= 1 && a.currentTime === 0) { a.currentTime = 2.5; }"
    "return i.complete && i.naturalWidth > 0 && a.currentTime >= 2.5 && !a.seeking"
)


async def main(out_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with served_world(Path(tmp)) as (front, world):
            with chromium(Path(tmp) / "profile") as driver:
                await asyncio.to_thread(
                    screenshot, driver, front.piece_url(world.child.id), out_dir / "web_piece.png", ROLL_SHOWN
                )
                await asyncio.to_thread(
                    screenshot,
                    driver,
                    front.session_url(world.session.id),
                    out_dir / "web_session.png",
                    "return true",
                )


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
