"""The web chat page in a real browser (Debian's headless Chromium through Playwright),
against the real server (`trygg serve`) on a throwaway SQLite database.

Keyboard only: answers are typed with page.keyboard and buttons are reached with Tab and
pressed with Enter. At the end, `trygg export responses` must show what was answered.
The Arabic page is saved as a screenshot in tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
STARTUP_SECONDS = 60.0
TIMEOUT_MS = 15_000

# What the Swedish participant answers, by question id; filled in as the test goes.
SWEDISH_ANSWERS: dict[str, Any] = {}


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    log: Path


def trygg_command() -> str:
    beside_python = Path(sys.executable).parent / "trygg"
    return str(beside_python if beside_python.exists() else REPO / ".venv" / "bin" / "trygg")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """`trygg serve` on a free port with ``env``, until it answers /healthz; its URL.
    Stopped (terminated, then killed) on the way out, whatever happened."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [trygg_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"`trygg serve` did not become healthy; its output:\n{tail}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def without_trygg_settings() -> dict[str, str]:
    """This process's environment without any TRYGG_ setting: no channel is on."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TRYGG_")}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("web")
    # No channel credentials: only the web chat is on.
    env = without_trygg_settings()
    env["TRYGG_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'web.db'}"
    log = folder / "server.log"
    with running_server(env, log) as url:
        yield Server(url, env, log)


def new_page(browser: Browser, locale: str, width: int = 1024, height: int = 800) -> Page:
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def assert_no_js_errors(page: Page, allowed: str | None = None) -> None:
    errors: list[str] = page.js_errors  # type: ignore[attr-defined]
    assert [error for error in errors if not (allowed and allowed in error)] == []


# -- keyboard helpers ----------------------------------------------------------------------


def focused_label(page: Page) -> str:
    label: str = page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return "";
            const label = el.querySelector && el.querySelector(".option-label");
            return (label ? label.textContent : el.textContent || el.id || "").trim();
        }"""
    )
    return label


def tab_to(page: Page, label: str, *, backwards: bool = False, limit: int = 20) -> None:
    """Presses Tab (or Shift+Tab) until the focused element is the one named ``label``."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if focused_label(page) == label:
            return
        page.keyboard.press(key)
    raise AssertionError(f"{label!r} is not reachable with {key}; at {focused_label(page)!r}")


def question(page: Page, step: str) -> Locator:
    return page.locator(f'#messages > li.msg-bot[data-step="{step}"]').last


def option(page: Page, step: str, label: str) -> Locator:
    return question(page, step).get_by_role("button", name=label, exact=True)


def wait_for_question(page: Page, step: str, *, buttons: bool) -> None:
    expect(question(page, step)).to_be_visible()
    if buttons:
        expect(question(page, step).locator(".options button").first).to_be_focused()
    else:
        expect(page.locator("#answer")).to_be_focused()
    # Only the current question has buttons (a free-text question may have a skip button).
    if buttons:
        expect(page.locator("#messages .options")).to_have_count(1)
    assert page.locator("#messages .options").count() <= 1


def type_answer(page: Page, text: str) -> None:
    expect(page.locator("#answer")).to_be_focused()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(page.locator("#messages > li.msg-me").last).to_have_text(f"{my_prefix(page)}{text}")
    expect(page.locator("#answer")).to_have_value("")


def my_prefix(page: Page) -> str:
    prefix: str = page.evaluate(
        "() => JSON.parse(document.getElementById('trygg-config').textContent).texts.you + ' '"
    )
    return prefix


def press(page: Page, step: str, label: str) -> str:
    """Tabs to a button of the current question and presses Enter; returns its choice id."""
    tab_to(page, label)
    payload = option(page, step, label).get_attribute("data-payload")
    assert payload is not None and payload.startswith(f"{step}:")
    page.keyboard.press("Enter")
    return payload.split(":", 1)[1]


def choose(page: Page, step: str, label: str, next_step: str, *, buttons: bool = True) -> None:
    SWEDISH_ANSWERS[step] = press(page, step, label)
    expect(page.locator("#messages > li.msg-me").last).to_have_text(f"{my_prefix(page)}{label}")
    wait_for_question(page, next_step, buttons=buttons)


def tick(page: Page, step: str, label: str) -> None:
    """Toggles a multiple-choice button; the question is updated in place."""
    button = option(page, step, label)
    before = button.get_attribute("aria-pressed")
    assert before in ("true", "false")
    press(page, step, label)
    expect(button).to_have_attribute("aria-pressed", "false" if before == "true" else "true")
    expect(button).to_be_focused()
    expect(page.locator(f'#messages > li[data-step="{step}"]')).to_have_count(1)


# -- scenarios -----------------------------------------------------------------------------


def test_swedish_dialog_by_keyboard_survives_a_reload(server: Server, browser: Browser) -> None:
    SWEDISH_ANSWERS.clear()
    page = new_page(browser, "sv-SE")
    page.goto(f"{server.url}/chat?source=badet")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")

    # The intro, then the open question; the answer field has the focus.
    intro = question(page, "intro")
    expect(intro).to_contain_text("Polisen och Landskrona stad")
    expect(intro).to_have_attribute("lang", "sv")
    expect(intro).to_have_attribute("dir", "ltr")
    wait_for_question(page, "problems", buttons=False)
    # A free-text question's only button (skip) is there, but the focus stays for typing.
    expect(question(page, "problems").locator("button")).to_have_count(1)
    # text_hint is for SMS and is not shown.
    expect(page.locator("body")).not_to_contain_text("Skriv HOPPA")

    SWEDISH_ANSWERS["problems"] = "Mörkt vid badet på kvällen."
    type_answer(page, "Mörkt vid badet på kvällen.")

    # Multiple choice: toggle buttons, then Klar.
    wait_for_question(page, "where", buttons=True)
    expect(question(page, "intro").locator("button")).to_have_count(0)
    where_buttons = question(page, "where").locator("button[aria-pressed]")
    expect(where_buttons).to_have_count(6)
    tick(page, "where", "Pilängen")
    tab_to(page, "Klar")
    page.keyboard.press("Enter")
    SWEDISH_ANSWERS["where"] = ["pilangen"]
    expect(page.locator("#messages > li.msg-me").last).to_have_text(f"{my_prefix(page)}Pilängen")
    wait_for_question(page, "where_detail", buttons=False)
    expect(question(page, "where").locator("button")).to_have_count(0)

    SWEDISH_ANSWERS["where_detail"] = "Vid kiosken"
    type_answer(page, "Vid kiosken")
    wait_for_question(page, "when", buttons=True)
    tick(page, "when", "På kvällen")

    # Reload mid-dialog: the transcript, the current question's buttons and its ticks return.
    transcript = page.locator("#messages > li").all_inner_texts()
    page.reload()
    wait_for_question(page, "when", buttons=True)
    expect(page.locator("#messages > li")).to_have_count(len(transcript))
    assert page.locator("#messages > li").all_inner_texts() == transcript
    expect(option(page, "when", "På kvällen")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#messages .options")).to_have_count(1)
    tick(page, "when", "På natten")
    tab_to(page, "Klar")
    page.keyboard.press("Enter")
    SWEDISH_ANSWERS["when"] = ["evening", "night"]
    expect(page.locator("#messages > li.msg-me").last).to_have_text(
        f"{my_prefix(page)}På kvällen, På natten"
    )

    # Single choice: the focus is on the first button; Tab to another one, Enter.
    wait_for_question(page, "told", buttons=True)
    choose(page, "told", "Ja, för någon annan", "place_1")

    # Place ratings: a symbol before the label, hidden from assistive technology.
    expect(page.locator("#messages > li.msg-bot").filter(has_text="fyra platser")).to_have_count(1)
    first_symbol = question(page, "place_1").locator("button .option-symbol").first
    expect(first_symbol).to_have_attribute("aria-hidden", "true")
    expect(first_symbol).to_have_text("🟢")
    rating_labels = question(page, "place_1").locator("button .option-label").all_inner_texts()
    assert len(rating_labels) == 3
    choose(page, "place_1", rating_labels[2], "place_2")
    choose(page, "place_2", rating_labels[0], "place_3")
    choose(page, "place_3", rating_labels[1], "place_4")
    choose(page, "place_4", rating_labels[0], "more", buttons=False)

    # An optional text question skipped with its button: Shift+Tab back from the field.
    tab_to(page, "Hoppa över", backwards=True)
    page.keyboard.press("Enter")
    wait_for_question(page, "age_group", buttons=True)
    choose(page, "age_group", "30-44 år", "gender")
    choose(page, "gender", "Vill inte svara", "feedback")
    SWEDISH_ANSWERS["feedback"] = press(page, "feedback", "Nej tack")
    expect(page.locator("#messages > li.msg-bot").last).to_contain_text("Tack för dina svar")
    expect(page.locator("#messages .options")).to_have_count(0)
    expect(page.locator("#answer")).to_be_focused()

    # The finished transcript survives a reload too, without buttons.
    transcript = page.locator("#messages > li").all_inner_texts()
    page.reload()
    expect(page.locator("#messages > li")).to_have_count(len(transcript))
    expect(page.locator("#messages .options")).to_have_count(0)
    assert_no_js_errors(page)
    page.context.close()


def test_arabic_page_is_right_to_left(server: Server, browser: Browser) -> None:
    # The browser asks for English; the explicit ?lang=ar wins.
    page = new_page(browser, "en-US", width=390, height=844)
    page.goto(f"{server.url}/chat?lang=ar")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    wait_for_question(page, "problems", buttons=False)
    expect(page.get_by_label("إجابتك")).to_be_focused()
    page.keyboard.type("الإضاءة ضعيفة قرب المسبح")
    page.keyboard.press("Enter")
    wait_for_question(page, "where", buttons=True)

    bots = page.locator("#messages > li.msg-bot")
    assert bots.count() >= 3
    for index in range(bots.count()):
        expect(bots.nth(index)).to_have_attribute("lang", "ar")
        expect(bots.nth(index)).to_have_attribute("dir", "rtl")
        assert bots.nth(index).evaluate("el => getComputedStyle(el).direction") == "rtl"
    mine = page.locator("#messages > li.msg-me").last
    expect(mine).to_have_attribute("dir", "auto")
    assert mine.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert mine.evaluate("el => el.matches(':dir(rtl)')")
    # On a right-to-left page the person's messages sit on the left, the bot's on the right.
    mine_box, bot_box = mine.bounding_box(), bots.first.bounding_box()
    assert mine_box is not None and bot_box is not None
    assert mine_box["x"] + mine_box["width"] / 2 < bot_box["x"] + bot_box["width"] / 2
    assert bot_box["x"] + bot_box["width"] > mine_box["x"] + mine_box["width"]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web_chat_ar.png"), full_page=True)
    assert_no_js_errors(page)
    page.context.close()


def test_accessibility_smoke(server: Server, browser: Browser) -> None:
    page = new_page(browser, "en-GB", width=320, height=640)
    page.goto(f"{server.url}/chat?lang=en")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("dir", "ltr")
    wait_for_question(page, "problems", buttons=False)

    log = page.locator("#log")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_have_attribute("aria-label", "Conversation")
    expect(page.get_by_role("log", name="Conversation")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("status")).to_have_count(1)
    expect(page.get_by_label("Your answer")).to_have_attribute("id", "answer")
    expect(page.get_by_role("button", name="Send")).to_have_count(1)

    page.keyboard.type("Nothing special")
    page.keyboard.press("Enter")
    wait_for_question(page, "where", buttons=True)
    # The buttons' group is named by the question.
    group = question(page, "where").get_by_role("group")
    expect(group).to_have_count(1)
    assert (
        group.get_attribute("aria-label")
        == question(page, "where").locator(".msg-text").text_content()
    )

    # Every button has an accessible name, as Chromium computes it.
    cdp = page.context.new_cdp_session(page)
    tree = cdp.send("Accessibility.getFullAXTree")["nodes"]
    buttons = [node for node in tree if node.get("role", {}).get("value") == "button"]
    assert len(buttons) >= 9  # 6 places, done, skip, send
    for node in buttons:
        assert node.get("name", {}).get("value", "").strip(), node
    textboxes = [node for node in tree if node.get("role", {}).get("value") == "textbox"]
    assert [node["name"]["value"] for node in textboxes] == ["Your answer"]

    # Large targets, a visible focus ring, and no sideways scrolling at 320px wide.
    for button in page.locator("button:visible").all():
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    # Keywords can be typed at any time: SPRÅK opens the language menu, where each
    # language is a button under its own name and marked up in its own language.
    tab_to(page, "answer")
    page.keyboard.type("SPRÅK")
    page.keyboard.press("Enter")
    menu = page.locator("#messages > li.msg-bot").last.get_by_role("group")
    expect(menu.get_by_role("button", name="العربية")).to_have_attribute("lang", "ar")
    expect(menu.get_by_role("button", name="Svenska")).to_have_attribute("lang", "sv")
    expect(menu.locator("button").first).to_be_focused()
    tab_to(page, "Svenska")
    page.keyboard.press("Enter")
    wait_for_question(page, "where", buttons=True)
    expect(question(page, "where")).to_have_attribute("lang", "sv")
    expect(option(page, "where", "Pilängen")).to_be_visible()

    # The skip link is the first stop and leads to the answer field.
    first_focusable = page.evaluate(
        "() => document.querySelector('a[href], button, input, [tabindex]').textContent.trim()"
    )
    assert first_focusable == "Skip to your answer"
    tab_to(page, "Skip to your answer", backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_be_focused()
    assert_no_js_errors(page)
    page.context.close()


def test_network_errors_keep_the_text_and_retry_with_the_same_id(
    server: Server, browser: Browser
) -> None:
    page = new_page(browser, "sv-SE")
    page.goto(f"{server.url}/chat?source=affisch")
    wait_for_question(page, "problems", buttons=False)
    sent: list[Any] = []

    def offline(route: Route) -> None:
        sent.append(route.request.post_data_json)
        route.abort("internetdisconnected")

    # Offline: one automatic retry, then a polite message; the typed text stays.
    page.route("**/chat/api/send", offline)
    page.keyboard.type("Mörkt i tunneln")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Det blev ett problem med anslutningen. Försök igen."
    )
    expect(page.locator("#answer")).to_have_value("Mörkt i tunneln")
    expect(page.locator("#answer")).to_be_focused()
    expect(page.locator("#messages > li.msg-me")).to_have_count(0)
    assert len(sent) == 2 and sent[0] == sent[1]
    assert sent[0]["text"] == "Mörkt i tunneln" and sent[0]["client_id"]
    page.unroute("**/chat/api/send", offline)

    # The answer reaches the server but its reply is lost: the retry (same client_id) is
    # recognised by the server, and the page shows the next question once.
    sent.clear()

    def reply_lost_once(route: Route) -> None:
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/chat/api/send", reply_lost_once)
    page.keyboard.press("Enter")
    wait_for_question(page, "where", buttons=True)
    expect(page.get_by_role("status")).to_have_text("")
    expect(page.locator("#messages > li.msg-me")).to_have_text(
        [f"{my_prefix(page)}Mörkt i tunneln"]
    )
    expect(page.locator("#messages > li.msg-bot[data-step='where']")).to_have_count(1)
    assert len(sent) == 2 and sent[0] == sent[1]
    page.unroute("**/chat/api/send", reply_lost_once)
    assert_no_js_errors(page, allowed="net::ERR_")
    page.context.close()


def test_export_has_the_swedish_web_answers(server: Server) -> None:
    if not SWEDISH_ANSWERS:
        pytest.skip("the Swedish browser dialog did not run (or failed) before this test")
    result = subprocess.run(
        [trygg_command(), "export", "responses", "--format", "json"],
        cwd=REPO,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    respondents = json.loads(result.stdout)
    from_badet = [row for row in respondents if row["source"] == "badet"]
    assert len(from_badet) == 1, respondents
    row = from_badet[0]
    assert row["channel"] == "web"
    assert row["language"] == "sv"
    assert row["completed_at"] is not None
    answers = row["answers"]
    assert {key: answers.get(key) for key in SWEDISH_ANSWERS} == SWEDISH_ANSWERS
    assert answers.get("more") in (None, "")  # skipped
