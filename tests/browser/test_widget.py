"""The chat widget in a real browser (Playwright, Debian's Chromium), as a person uses it.

By default the widget talks to tests/browser/fake_rasa.py; `WIDGET_TEST_ASSISTANT=real` runs
the same tests against `python -m bot.serve` (the `running_assistant` fixture). Assertions
that depend on the fake's canned answers are guarded by `assistant.is_fake`.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, List

import pytest
from playwright.sync_api import Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_JS = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
STORAGE_KEY = "kratom-chat:v1"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SAFE_HREF_RE = re.compile(r"^(tel:\+?\d+|https?://\S+)$")
TOPIC_QUESTION = "what is kratom"
RISK_MESSAGE = "I think I took too much kratom and I can't breathe"
XSS_PROBE = "<img src=x onerror=alert(1)>"
US_OFFLINE_NUMBERS = ("tel:911", "tel:+18002221222", "tel:988")
UK_OFFLINE_NUMBERS = ("tel:999", "tel:111", "tel:116123")


class Chat:
    """The widget on a page, driven the way a person would."""

    def __init__(self, page: Page, is_fake: bool = True) -> None:
        self.page = page
        # The real assistant shares two cores with everything else: be patient with it.
        self.reply_timeout_ms = 8_000 if is_fake else 60_000
        self.launcher = page.get_by_role("button", name="Ask about kratom")
        self.panel = page.get_by_role("dialog", name="Kratom information chat")
        self.log = page.get_by_role("log")
        self.input = page.get_by_role("textbox", name="Your message")
        self.replies = page.get_by_role("group", name="Suggested replies")
        self.notice = page.get_by_role("alert")
        self.messages = self.log.locator(".kc-msg")
        self.bot_messages = self.log.locator(".kc-msg-bot")
        self.user_messages = self.log.locator(".kc-msg-user")

    def goto(self, url: str) -> None:
        self.page.goto(url)
        expect(self.launcher).to_be_visible()

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()
        expect(self.input).to_be_focused()

    def send(self, text: str) -> List[str]:
        before = self.bot_messages.count()
        self.input.fill(text)
        self.input.press("Enter")
        expect(self.user_messages.last.locator(".kc-bubble")).to_have_text(text)
        return self.wait_for_reply(before)

    def wait_for_reply(self, before: int) -> List[str]:
        """Texts of the bot messages after the first `before`, once they stop arriving."""
        self.page.wait_for_function(
            "n => document.querySelectorAll('.kc-log .kc-msg-bot').length > n",
            arg=before,
            timeout=self.reply_timeout_ms,
        )
        count, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < 0.8:
            now = self.bot_messages.count()
            if now != count:
                count, stable_since = now, time.monotonic()
            self.page.wait_for_timeout(100)
        return [self.bot_messages.nth(i).inner_text() for i in range(before, count)]

    def stored(self) -> Any:
        return self.page.evaluate(f"JSON.parse(sessionStorage.getItem('{STORAGE_KEY}'))")

    def transcript(self) -> List[str]:
        return [self.messages.nth(i).inner_text() for i in range(self.messages.count())]


def run_axe(page: Page, label: str) -> None:
    """axe-core on the whole page; no serious or critical violation is allowed."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci --prefix web`", pytrace=False)
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)
            }));
        }"""
    )
    blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not blocking, f"axe ({label}):\n" + json.dumps(blocking, indent=1)


def assert_only_safe_links(chat: Chat) -> None:
    hrefs = chat.log.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    unsafe = [h for h in hrefs if not SAFE_HREF_RE.match(h or "")]
    assert not unsafe, f"links other than tel: and http(s): {unsafe}"


def assert_no_script_errors(page: Page) -> None:
    assert page.script_errors == [], page.script_errors
    assert page.dialogs == [], f"a dialog opened: {page.dialogs}"


# ---------------------------------------------------------------------- a whole conversation


def test_conversation_journey(assistant: Any, new_page: Any, artifacts: Path) -> None:
    page = new_page()
    chat = Chat(page, assistant.is_fake)
    chat.goto(assistant.web_url)
    expect(chat.launcher).to_have_attribute("aria-expanded", "false")
    chat.open()
    expect(chat.panel).to_contain_text("General information, not medical advice.")
    expect(chat.panel.locator('.kc-header a[href="tel:911"]')).to_be_visible()

    # A topic question: the first reply carries the full disclaimer.
    replies = chat.send(TOPIC_QUESTION)
    assert "kratom" in " ".join(replies).lower()
    assert any("not medical advice" in r.lower() for r in replies), replies

    # Quick replies are real buttons; clicking one sends its payload and shows its title.
    expect(chat.replies).to_be_visible()
    page.screenshot(path=str(artifacts / "widget-open.png"))
    first = chat.replies.get_by_role("button").first
    title = first.inner_text()
    before = chat.bot_messages.count()
    first.click()
    expect(chat.user_messages.last.locator(".kc-bubble")).to_have_text(title)
    expect(chat.input).to_be_focused()
    answer = chat.wait_for_reply(before)
    assert answer and all(text.strip() for text in answer)
    if assistant.is_fake:
        expect(chat.replies).to_be_hidden()
        last = assistant.received()[-1]
        assert last["message"] == "/ask_effects"
        assert last["metadata"] == {"locale": "us"}
        assert UUID_RE.match(last["session_id"])
        expect(chat.bot_messages.locator("li")).to_have_count(3)  # "• " lines became a list

    # A risk message: the numbers to call are tel: links.
    before = chat.bot_messages.count()
    replies = chat.send(RISK_MESSAGE)
    risk_reply = chat.bot_messages.nth(before)
    for href in ("tel:911", "tel:+18002221222"):
        expect(chat.log.locator(f'.kc-msg-bot a[href="{href}"]').last).to_be_visible()
    assert any("911" in text for text in replies)

    # Markup typed by the user (and echoed by the fake bot) is shown as text, never run.
    chat.send(XSS_PROBE)
    expect(chat.user_messages.last.locator(".kc-bubble")).to_have_text(XSS_PROBE)
    assert page.locator("img").count() == 0
    assert chat.log.locator("b, script, iframe").count() == 0
    if assistant.is_fake:
        expect(chat.bot_messages.filter(has_text="You wrote: " + XSS_PROBE)).to_have_count(1)
        expect(chat.bot_messages.filter(has_text='<a href="javascript:alert(2)">link</a>')).to_have_count(1)
    assert_only_safe_links(chat)
    risk_reply.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "widget-conversation.png"))

    # Reloading keeps the conversation, the session id and the open panel.
    transcript, stored = chat.transcript(), chat.stored()
    assert UUID_RE.match(stored["sessionId"])
    page.reload()
    expect(chat.panel).to_be_visible()
    expect(chat.messages).to_have_count(len(transcript))
    assert chat.transcript() == transcript
    assert chat.stored()["sessionId"] == stored["sessionId"]
    if assistant.is_fake:  # the server sees the same conversation continue
        chat.send("is it safe?")
        assert assistant.received()[-1]["session_id"] == stored["sessionId"]

    # Only sessionStorage: nothing in localStorage, no cookies.
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []

    # Clear conversation: empty log, storage forgotten, a new unguessable session id.
    page.get_by_role("button", name="Clear conversation").click()
    expect(chat.messages).to_have_count(0)
    expect(chat.input).to_be_focused()
    expect(chat.replies).to_be_hidden()
    cleared = chat.stored()
    assert cleared["messages"] == []
    assert UUID_RE.match(cleared["sessionId"]) and cleared["sessionId"] != stored["sessionId"]
    raw = page.evaluate(f"sessionStorage.getItem('{STORAGE_KEY}')")
    assert "breathe" not in raw and "onerror" not in raw

    # The new conversation works and starts over with the full disclaimer.
    replies = chat.send(TOPIC_QUESTION)
    assert any("not medical advice" in r.lower() for r in replies), replies
    if assistant.is_fake:
        assert assistant.received()[-1]["session_id"] == cleared["sessionId"]
    assert_no_script_errors(page)


# ---------------------------------------------------------------------- keyboard


def test_keyboard_only(assistant: Any, new_page: Any) -> None:
    page = new_page()
    chat = Chat(page, assistant.is_fake)
    chat.goto(assistant.web_url)

    for _ in range(15):  # Tab from the top of the page to the launcher
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('kc-launcher')"):
            break
    expect(chat.launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(chat.panel).to_be_visible()
    expect(chat.input).to_be_focused()
    expect(page.locator(".kc-launcher")).to_be_hidden()  # the panel's own Close button replaces it

    # Empty and whitespace-only messages are not sent; Shift+Enter is a new line.
    page.keyboard.press("Enter")
    chat.input.fill("   ")
    page.keyboard.press("Enter")
    expect(chat.messages).to_have_count(0)
    chat.input.fill("")
    page.keyboard.type("a")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("b")
    assert chat.input.input_value() == "a\nb"
    expect(chat.messages).to_have_count(0)

    # At most 1000 characters.
    assert chat.input.get_attribute("maxlength") == "1000"
    chat.input.fill("")
    page.keyboard.insert_text("x" * 1005)
    assert len(chat.input.input_value()) == 1000
    chat.input.fill("")

    before = chat.bot_messages.count()
    page.keyboard.type(TOPIC_QUESTION)
    page.keyboard.press("Enter")
    chat.wait_for_reply(before)
    expect(chat.replies).to_be_visible()
    n_replies = chat.replies.get_by_role("button").count()

    # Tab order: header link, close, log, quick replies, input, send, clear.
    chat.panel.locator(".kc-header a").first.focus()
    order = []
    for _ in range(5 + n_replies):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.className.split(' ')[0]"))
    assert order == ["kc-close", "kc-log"] + ["kc-reply"] * n_replies + ["kc-input", "kc-send", "kc-clear"]
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
    )
    assert outline[0] != "none" and outline[1] >= 2, f"no visible focus ring on Clear: {outline}"

    # A quick reply by keyboard.
    first = chat.replies.get_by_role("button").first
    title = first.inner_text()
    before = chat.bot_messages.count()
    first.focus()
    page.keyboard.press("Enter")
    expect(chat.user_messages.last.locator(".kc-bubble")).to_have_text(title)
    chat.wait_for_reply(before)

    # Escape closes and gives focus back to the launcher.
    shown = chat.messages.count()
    chat.input.focus()
    page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    expect(chat.launcher).to_be_focused()
    expect(chat.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(chat.panel).to_be_visible()
    expect(chat.messages).to_have_count(shown)
    assert_no_script_errors(page)


# ---------------------------------------------------------------------- accessibility


@pytest.mark.parametrize(
    "width, height, screenshot",
    [(1280, 800, None), (320, 640, "widget-open-320.png")],
    ids=["desktop", "320px"],
)
def test_accessibility(
    assistant: Any, new_page: Any, artifacts: Path, width: int, height: int, screenshot: str
) -> None:
    page = new_page(width, height)
    chat = Chat(page, assistant.is_fake)
    chat.goto(assistant.web_url)
    run_axe(page, f"closed, {width}px")
    chat.open()
    chat.send(TOPIC_QUESTION)
    expect(chat.replies).to_be_visible()
    chat.send(RISK_MESSAGE)
    run_axe(page, f"conversation, {width}px")

    # Nothing sticks out sideways, even at 320 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = chat.panel.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.kc-panel *:not(.kc-visually-hidden)')]
              .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
              .map(e => e.className)"""
    )
    assert overflowing == []
    if screenshot:
        page.screenshot(path=str(artifacts / screenshot))
    assert_no_script_errors(page)


# ---------------------------------------------------------------------- links


@pytest.mark.fake_assistant_only  # the link probe is an answer only the fake assistant gives
def test_only_tel_and_http_links(assistant: Any, new_page: Any) -> None:
    page = new_page()
    chat = Chat(page)
    chat.goto(assistant.web_url)
    chat.open()
    chat.send("__linkify_probe__")
    probe = chat.bot_messages.filter(has_text="Not numbers").first
    links = probe.locator("a").evaluate_all(
        "links => links.map(a => [a.firstChild.textContent, a.getAttribute('href')])"
    )
    assert links == [
        ["911", "tel:911"],
        ["988", "tel:988"],
        ["1-800-222-1222", "tel:+18002221222"],
        ["999", "tel:999"],
        ["111", "tel:111"],
        ["116 123", "tel:116123"],
        ["0300 123 6600", "tel:+443001236600"],
        ["https://findtreatment.gov", "https://findtreatment.gov/"],
        ["https://example.org/a_(b)", "https://example.org/a_(b)"],
        ["http://example.org/path?q=1&r=2", "http://example.org/path?q=1&r=2"],
    ]
    web_links = probe.locator("a.kc-url")
    for i in range(web_links.count()):
        expect(web_links.nth(i)).to_have_attribute("rel", "noopener noreferrer")
    expect(probe).to_contain_text("data:text/html,<b>x</b>")
    assert_no_script_errors(page)


# ---------------------------------------------------------------------- when the assistant is away


@pytest.mark.fake_assistant_only  # needs a message the fake assistant never answers
def test_no_reply_shows_emergency_numbers(assistant: Any, new_page: Any) -> None:
    page = new_page()
    chat = Chat(page)
    chat.goto(assistant.web_url)
    chat.open()
    chat.input.fill("__silent__")
    chat.input.press("Enter")
    expect(page.locator(".kc-typing")).to_be_visible()
    expect(chat.notice).to_contain_text("hasn’t answered yet", timeout=14_000)
    expect(page.locator(".kc-typing")).to_be_hidden()
    for href in US_OFFLINE_NUMBERS:
        expect(chat.notice.locator(f'a[href="{href}"]')).to_be_visible()
    # A later answer clears the notice.
    chat.send(TOPIC_QUESTION)
    expect(chat.notice).to_have_text("")
    assert_no_script_errors(page)


@pytest.mark.parametrize("width, height", [(1280, 800), (320, 640)], ids=["desktop", "320px"])
def test_unreachable_assistant_shows_emergency_numbers(
    unreachable_site: Any, new_page: Any, artifacts: Path, width: int, height: int
) -> None:
    page = new_page(width, height)
    chat = Chat(page)
    chat.goto(unreachable_site.url)
    chat.open()
    expect(chat.notice).to_contain_text("reach the assistant right now", timeout=10_000)
    for href in US_OFFLINE_NUMBERS:
        expect(chat.notice.locator(f'a[href="{href}"]')).to_be_visible()
    chat.input.fill("is anyone there?")
    chat.input.press("Enter")
    expect(chat.user_messages.last).to_contain_text("is anyone there?")
    expect(chat.notice).to_be_visible()
    run_axe(page, f"offline notice, {width}px")
    if width == 320:
        page.screenshot(path=str(artifacts / "widget-offline-320.png"))
    assert_no_script_errors(page)


def test_uk_locale_offline_numbers(unreachable_site: Any, new_page: Any) -> None:
    page = new_page()
    chat = Chat(page)
    chat.goto(unreachable_site.url + "?locale=uk")
    chat.open()
    expect(chat.panel.locator('.kc-header a[href="tel:999"]')).to_be_visible()
    expect(chat.notice).to_contain_text("reach the assistant right now", timeout=10_000)
    for href in UK_OFFLINE_NUMBERS:
        expect(chat.notice.locator(f'a[href="{href}"]')).to_be_visible()
    assert chat.notice.locator('a[href="tel:911"]').count() == 0
    assert_no_script_errors(page)


@pytest.mark.fake_assistant_only  # restarting Rasa on the same port is a feature of the fake
def test_reconnects_and_sends_what_was_typed_offline(assistant: Any, new_page: Any) -> None:
    page = new_page()
    chat = Chat(page)
    chat.goto(assistant.web_url)
    chat.open()
    chat.send(TOPIC_QUESTION)
    session_id = chat.stored()["sessionId"]

    assistant.stop_service("rasa")
    expect(chat.notice).to_contain_text("reach the assistant right now", timeout=15_000)
    before = chat.bot_messages.count()
    chat.input.fill("what are the effects")
    chat.input.press("Enter")
    assert chat.stored()["pending"] == ["what are the effects"]

    assistant.start_rasa()  # socket.io reconnects by itself (within about 5 s)
    chat.reply_timeout_ms = 20_000
    replies = chat.wait_for_reply(before)
    assert any("stimulating" in text for text in replies), replies
    expect(chat.notice).to_have_text("")
    assert chat.stored()["pending"] == []
    received = assistant.received()
    assert [r["message"] for r in received] == ["what are the effects"]
    assert received[0]["session_id"] == session_id
    assert_no_script_errors(page)


def test_offline_notice_when_rasa_stops(assistant: Any, new_page: Any, artifacts: Path) -> None:
    """Runs last: against the real assistant it stops the Rasa server for good."""
    page = new_page()
    chat = Chat(page, assistant.is_fake)
    chat.goto(assistant.web_url)
    chat.open()
    chat.send(TOPIC_QUESTION)
    expect(chat.notice).to_have_text("")

    assistant.stop_service("rasa")
    expect(chat.notice).to_contain_text("reach the assistant right now", timeout=15_000)
    for href in US_OFFLINE_NUMBERS:
        expect(chat.notice.locator(f'a[href="{href}"]')).to_be_visible()

    # Typing still works; the message waits for the connection, the numbers stay in view.
    chat.input.fill("are you still there?")
    chat.input.press("Enter")
    expect(chat.user_messages.last).to_contain_text("are you still there?")
    expect(chat.notice.locator('a[href="tel:911"]')).to_be_visible()
    page.screenshot(path=str(artifacts / "widget-offline.png"))
    assert_no_script_errors(page)
