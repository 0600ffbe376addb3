"""The dev phone in a real headless Chromium against a real stack: gunicorn, a worker, moto SQS, Flower, stand-ins.

Chromium is Debian's (`apt-get install chromium chromium-driver`), driven by Selenium through the
matching chromedriver. DEVPHONE_SCREENSHOT=docs/img/dev-phone.png saves the finished conversation
(a text, a voice note and a photo, each with its path) for the README.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from localdev.polling import wait_for
from localdev.processes import ManagedProcess, free_port
from localdev.redis_keys import delete_keys_with_prefix
from tests.harness.pipeline import Stack, make_stack
from tests.harness.standins import RunningStandin

pytestmark = [pytest.mark.integration, pytest.mark.browser]

STEPS = ["accepted", "intake", "completion", "reply", "delivered"]
# What the page shows, read in one go: the pane is redrawn on every pushed change, so no element is kept.
ROWS = """
return [...document.querySelectorAll('#messages .row')].map(row => ({
  out: row.classList.contains('out'), sid: row.dataset.sid || null, answers: row.dataset.answers || null,
  text: (row.querySelector('.bubble .text') || {}).textContent || '',
  heard: [...row.querySelectorAll('.heard')].map(h => h.textContent),
  reached: [...row.querySelectorAll('.step.reached')].map(s => s.dataset.step),
  times: [...row.querySelectorAll('.step.reached time')].map(t => t.textContent),
  flower: [...row.querySelectorAll('.flower a')].map(a => [a.textContent, a.href]),
  photo: !!row.querySelector('.bubble img'), audio: !!row.querySelector('.bubble audio'),
}));
"""


@dataclass
class DevPhoneRun:
    url: str
    flower_url: str
    stack: Stack


def started(process: ManagedProcess, url: str) -> ManagedProcess:
    def answers() -> bool:
        if not process.is_running():
            raise AssertionError(f"{process.name} exited during start-up\n{process.log_tail()}")
        return requests.get(url, timeout=2).status_code == 200

    wait_for(answers, timeout=30, message=f"{url} to answer", ignore=(requests.ConnectionError,))
    return process


@pytest.fixture(scope="module")
def devphone(pipeline_env: dict[str, str], twilio_standin_session: RunningStandin,
             openai_standin_session: RunningStandin, log_dir: Path) -> Iterator[DevPhoneRun]:
    """One stack for the module (status callbacks reach its web: PUBLIC_BASE_URL), Flower, and the dev phone."""
    web_port, flower_port, phone_port = free_port(), free_port(), free_port()
    stack = make_stack(pipeline_env, twilio_standin_session, openai_standin_session, log_dir,
                       PUBLIC_BASE_URL=f"http://127.0.0.1:{web_port}",
                       TWILIO_MEDIA_REDIRECT_HOSTS=twilio_standin_session.client.media_host())
    env = {**stack.env, "PORT": str(web_port), "FLOWER_PORT": str(flower_port), "FLOWER_UNAUTHENTICATED": "true",
           # Flower's own switch for its API without credentials (the dev phone reads task times there).
           "FLOWER_UNAUTHENTICATED_API": "true"}
    flower_url, phone_url = f"http://127.0.0.1:{flower_port}", f"http://127.0.0.1:{phone_port}"
    processes = []
    try:
        stack.start_web(port=web_port)
        stack.start_worker(concurrency=4)
        for name, argv, health in [
            ("flower", [sys.executable, "-m", "celery", "-A", "tasks", "flower"], f"{flower_url}/healthcheck"),
            ("devphone", [sys.executable, "-m", "localdev.devphone", "--port", str(phone_port)],
             f"{phone_url}/healthz"),
        ]:
            processes.append(ManagedProcess(name, argv, env, log_dir / f"{name}-{phone_port}.log").start())
            started(processes[-1], health)
        yield DevPhoneRun(f"{phone_url}/", flower_url, stack)
    finally:
        for process in processes:
            process.stop()
        stack.stop()
        delete_keys_with_prefix(stack.env["REDIS_URL"], stack.env["REDIS_KEY_PREFIX"])


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Debian chromium; a machine without it fails here, loudly (scripts/test deselects this test then)."""
    chromium = os.environ.get("DEVPHONE_CHROMIUM") or shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.fail("the browser test needs chromium and chromedriver: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1360,1020",
                     "--force-device-scale-factor=1", "--lang=en-GB"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def rows(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    return list(browser.execute_script(ROWS))


def wait_for_row(browser: webdriver.Chrome, matches: Callable[[dict[str, Any]], bool], what: str,
                 timeout: float = 60) -> dict[str, Any]:
    try:
        return wait_for(lambda: next((row for row in rows(browser) if matches(row)), None), timeout=timeout,
                        message=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe page shows: {rows(browser)}\nconsole: {browser.get_log('browser')}") from None


def photo_png(width: int = 240, height: int = 150) -> bytes:
    """A small real PNG (a green-to-blue gradient), made here so the test ships no binary file."""
    raw = b"".join(b"\x00" + bytes(channel for x in range(width) for channel in (
        30, 128 + x * 127 // width, 105 + y * 150 // height)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_a_conversation_in_the_browser_shows_each_answer_and_the_path_of_each_message(
        devphone: DevPhoneRun, browser: webdriver.Chrome, twilio_standin: RunningStandin,
        openai_standin: RunningStandin, tmp_path: Path) -> None:
    """(twilio_standin and openai_standin: nothing recorded, no fault left by an earlier test.)"""
    browser.get(devphone.url)
    wait_for(lambda: browser.find_element(By.ID, "live").get_attribute("data-state") == "live", timeout=10,
             message="the event stream to connect")
    assert browser.find_element(By.ID, "chat-name").text == "Ana"

    question = "When does the registration office open?"
    browser.find_element(By.ID, "text").send_keys(question)
    browser.find_element(By.ID, "send").click()
    answer = wait_for_row(browser, lambda r: not r["out"] and r["text"] == f"echo: {question}",
                          "the bot's answer to the text")
    text = wait_for_row(browser, lambda r: r["sid"] == answer["answers"] and r["reached"] == STEPS
                        and len(r["flower"]) == 3, "the text's whole path, with its tasks in Flower")
    assert all(text["times"]), text
    assert [stage for stage, _ in text["flower"]] == ["intake", "complete", "reply"]
    for _, url in text["flower"]:
        assert url.startswith(f"{devphone.flower_url}/task/") and requests.get(url, timeout=5).status_code == 200

    note = tmp_path / "question.ogg"  # the OpenAI stand-in "transcribes" a file as its bytes
    note.write_bytes(b"Which documents do I need to register?")
    browser.find_element(By.ID, "voice-input").send_keys(str(note))
    wait_for_row(browser, lambda r: not r["out"] and r["text"] == "echo: Which documents do I need to register?",
                 "the answer from the voice note's transcript")
    voice = wait_for_row(browser, lambda r: r["out"] and r["audio"] and r["reached"] == STEPS, "the voice note's path")
    assert voice["heard"] == ["heard: “Which documents do I need to register?”"]

    photo = tmp_path / "form.png"
    photo.write_bytes(photo_png())
    browser.find_element(By.ID, "text").send_keys("Is this form filled in right?")
    browser.find_element(By.ID, "photo-input").send_keys(str(photo))
    wait_for_row(browser, lambda r: not r["out"] and r["text"].startswith("echo: Is this form filled in right?")
                 and r["text"].endswith("[1 image]"), "the answer to the photo (one image) and its caption")
    wait_for_row(browser, lambda r: r["out"] and r["photo"] and r["reached"] == STEPS, "the photo's path")
    wait_for(lambda: all(len(row["flower"]) == 3 for row in rows(browser) if row["out"]), timeout=30,
             message="every message's intake, complete and reply tasks in Flower")

    screenshot = os.environ.get("DEVPHONE_SCREENSHOT")
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(screenshot), screenshot


def test_a_long_answer_arrives_as_its_separate_parts(devphone: DevPhoneRun, browser: webdriver.Chrome,
                                                     openai_standin: RunningStandin) -> None:
    openai_standin.client.set_reply_length(2400)
    browser.get(devphone.url)
    wait_for(lambda: browser.find_element(By.ID, "live").get_attribute("data-state") == "live", timeout=10,
             message="the event stream to connect")
    browser.find_element(By.CSS_SELECTOR, '[data-user="whatsapp:+15550100002"]').click()

    browser.find_element(By.ID, "text").send_keys("Tell me everything")
    browser.find_element(By.ID, "send").click()

    sent = wait_for_row(browser, lambda r: r["out"] and r["reached"] == STEPS, "the long answer to be delivered")
    parts = [row for row in rows(browser) if not row["out"] and row["answers"] == sent["sid"]]
    assert len(parts) == 2 and all(0 < len(part["text"]) <= 1600 for part in parts), parts
    assert browser.find_element(By.ID, "chat-name").text == "Ben"
