"""The staff dashboard in a real browser (Debian's headless Chromium through Playwright),
against the real server (`trygg serve`) on a throwaway SQLite database.

People first answer the questionnaire through the real web chat API. Then a member of
staff runs the campaign from the browser: logs in, opens the campaign and a poster,
watches the results and filters them, reads and tags free text, downloads an export,
and composes and previews the återkoppling. Every page is checked with axe-core (WCAG
2.1 A and AA, and axe's best practices) and saved as a screenshot in tests/artifacts/.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.staff.web_chat_people import Person, answer_questionnaire
from tests.test_web_browser import (
    ARTIFACTS,
    TIMEOUT_MS,
    running_server,
    trygg_command,
    without_trygg_settings,
)

PASSWORD = "ett långt lösenord för testet"
# Seven Swedish at the bath (enough to be shown), five Arabic at the congregation, and
# two who stopped early without a source (too few to be shown on their own).
PEOPLE = [
    *[Person("badet", "sv") for _ in range(7)],
    *[Person("forsamlingen", "ar") for _ in range(5)],
    *[Person(None, "en", complete=False) for _ in range(2)],
]
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
}


@dataclass(frozen=True)
class Dashboard:
    url: str
    log: Path


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("dashboard")
    env = without_trygg_settings()
    env["TRYGG_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'dashboard.db'}"
    for name, role in (("admin", "admin"), ("viewer", "viewer")):
        subprocess.run(
            [trygg_command(), "staff", "create-user", name, "--role", role, "--password-stdin"],
            input=PASSWORD + "\n", text=True, env=env, cwd=folder, check=True,
            capture_output=True,
        )  # fmt: skip
    log = folder / "server.log"
    with running_server(env, log) as url:
        for seed, person in enumerate(PEOPLE):
            answer_questionnaire(url, person, seed)
        yield Dashboard(url, log)


def new_page(browser: Browser, width: int = 1280) -> Page:
    context = browser.new_context(
        locale="sv-SE", viewport={"width": width, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    # The dashboard runs no script, so any error here is a CSP refusal or a broken page.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def checked(page: Page, name: str) -> None:
    """axe-core finds nothing on the page; the screenshot is kept to look at."""
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"staff-{name}.png"), full_page=True)
    assert page.js_errors == []  # type: ignore[attr-defined]


def log_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/staff")
    expect(page).to_have_url(re.compile(r"/staff/login\?next="))
    checked(page, "login")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1, name="Kampanjer")).to_be_visible()


def test_staff_run_a_campaign_from_the_browser(browser: Browser, dashboard: Dashboard) -> None:
    page = new_page(browser)
    log_in(page, dashboard.url, "admin")
    checked(page, "start")
    page.get_by_role("link", name="Medborgardialog om trygghet i Karlslund").click()

    # The campaign: sources, entry points, a poster per source and language.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Karlslund")
    expect(page.get_by_text("Spontant möte vid Karlslundsbadet").first).to_be_visible()
    checked(page, "campaign")
    poster = page.request.get(f"{dashboard.url}/staff/campaigns/karlslund/posters/badet/ar.svg")
    assert poster.status == 200 and poster.headers["content-type"].startswith("image/svg+xml")
    assert 'direction="rtl"' in poster.text()

    # Results as they came in, then filtered to one source.
    page.get_by_role("navigation", name=re.compile("Kampanjen")).get_by_role(
        "link", name="Resultat"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Resultat")
    checked(page, "results")
    assert "14" in page.locator("main").inner_text()
    page.get_by_label("Källa", exact=True).select_option("badet")
    page.get_by_role("button", name=re.compile("Visa|Filtrera")).click()
    expect(page).to_have_url(re.compile(r"source=badet"))
    text = page.locator("main").inner_text()
    assert "7" in text
    checked(page, "results-filtered")

    # Free text, as written (Arabic right to left), tagged with a theme.
    page.goto(f"{dashboard.url}/staff/campaigns/karlslund/free-text?language=ar&step=problems")
    arabic = page.locator('[lang="ar"][dir="auto"]').first
    expect(arabic).to_have_text("النفق مظلم في المساء.")
    checked(page, "free-text")
    page.get_by_label(re.compile("Tema|Tagg")).first.fill("belysning")
    page.get_by_role("button", name=re.compile("Lägg till")).first.click()
    tagged = page.get_by_role("list", name="Taggar på svaret").first
    expect(tagged).to_contain_text("belysning")
    checked(page, "free-text-tagged")

    # An export, downloaded and logged.
    page.goto(f"{dashboard.url}/staff/campaigns/karlslund/exports")
    checked(page, "exports")
    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile("XLSX")).click()
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    sheet = workbook["Svar"]
    assert sheet.max_row - 1 == len(PEOPLE)  # a header row and one row per respondent
    headers = [cell.value for cell in sheet[1]]
    assert "problems_tags" in headers
    tags = [
        row[headers.index("problems_tags")] for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert tags.count("belysning") == 1

    # Återkoppling: compose in three languages and preview.
    page.goto(f"{dashboard.url}/staff/campaigns/karlslund/broadcasts")
    checked(page, "broadcasts")
    page.get_by_role("link", name=re.compile("Ny återkoppling|Skriv")).first.click()
    checked(page, "broadcast-new")
    page.get_by_label("Namn").fill("Resultat hösten 2026")
    text = lambda name: page.get_by_role("textbox", name=re.compile(f"^{name}"))  # noqa: E731
    text("Svenska").fill("Tack! Belysningen i gångtunneln byts i vår.")
    text("English").fill("Thank you! The underpass lights are replaced in spring.")
    expect(text("العربية")).to_have_attribute("dir", "rtl")
    text("العربية").fill("شكراً! سيتم تغيير الإنارة في النفق في الربيع.")
    page.get_by_role("button", name=re.compile("Spara")).click()
    expect(page.get_by_text("Tack! Belysningen i gångtunneln byts i vår.").first).to_be_visible()
    checked(page, "broadcast")
    # Sending needs the confirmation ticked; then the report counts the copies.
    page.get_by_label(re.compile("Jag har läst förhandsvisningen")).check()
    page.get_by_role("button", name="Skicka återkopplingen").click()
    expect(page.locator("main")).to_contain_text(re.compile("Skickas|Klart"))
    checked(page, "broadcast-sent")

    for path, name in (
        ("/staff/campaigns/karlslund/erasure", "erasure"),
        ("/staff/users", "users"),
        ("/staff/audit", "audit"),
    ):
        page.goto(dashboard.url + path)
        checked(page, name)
    audit = page.locator("main").inner_text()
    for action in ("staff.login", "export.downloaded", "broadcast.create"):
        assert action in audit


def test_a_viewer_sees_results_but_no_free_text(browser: Browser, dashboard: Dashboard) -> None:
    page = new_page(browser, width=420)  # a phone: the pages must still work
    log_in(page, dashboard.url, "viewer")
    page.goto(f"{dashboard.url}/staff/campaigns/karlslund/results")
    checked(page, "results-phone")
    nav = page.get_by_role("navigation", name=re.compile("Kampanjen"))
    expect(nav.get_by_role("link", name="Fritext")).to_have_count(0)
    answer = page.goto(f"{dashboard.url}/staff/campaigns/karlslund/free-text")
    assert answer is not None and answer.status == 403
    # Chromium reports the refused page itself on the console; that one is expected.
    page.js_errors.remove(
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    )  # type: ignore[attr-defined]
    checked(page, "refused")
