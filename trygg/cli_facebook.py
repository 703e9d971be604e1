"""``trygg facebook``: the page's Get Started button and menu, and m.me links with QR codes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from bots.facebook.inbound import GET_STARTED, MENU_KEYWORDS, MENU_START
from dialog_flows import texts
from dialog_flows.library import load_library
from dialog_flows.translations import Translations
from trygg.qr import require_source, write_qr
from trygg.service.channels import facebook_enabled
from trygg.settings import Settings

facebook_app = typer.Typer(
    help="The Messenger page: Get Started, menu, m.me links.", no_args_is_help=True
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
# The menu's languages: Messenger picks the entry for the person's locale, else default.
MENU_LOCALES = {"default": "sv", "sv_SE": "sv", "en_US": "en", "en_GB": "en", "ar_AR": "ar"}
MENU_ITEMS = (
    (texts.MENU_TAKE_PART, MENU_START),
    (texts.MENU_RESULTS, "MENU:RESULTS"),
    (texts.MENU_LANGUAGE, "MENU:LANGUAGE"),
    (texts.MENU_STOP, "MENU:STOP"),
)
assert {payload for _, payload in MENU_ITEMS} == {MENU_START, *MENU_KEYWORDS}


def messenger_profile(translations: Translations) -> dict[str, Any]:
    """The Get Started button and the persistent menu in Swedish, English and Arabic."""
    menus = [
        {
            "locale": locale,
            "composer_input_disabled": False,
            "call_to_actions": [
                {"type": "postback", "title": translations.system(lang, text)[:30], "payload": p}
                for text, p in MENU_ITEMS
            ],
        }
        for locale, lang in MENU_LOCALES.items()
    ]
    return {"get_started": {"payload": GET_STARTED}, "persistent_menu": menus}


@facebook_app.command("setup")
def setup() -> None:
    """Set the page's Get Started button and its menu (take part, results, language, stop)."""
    settings = Settings()
    if not facebook_enabled(settings):
        err.print(
            "Messenger is off: set TRYGG_FACEBOOK_PAGE_TOKEN, TRYGG_FACEBOOK_APP_SECRET and "
            "TRYGG_FACEBOOK_VERIFY_TOKEN",
            markup=False,
        )
        raise typer.Exit(2)
    library = load_library([settings.flows_dir], settings.locales_dir)
    profile = messenger_profile(library.translations)
    url = f"{settings.facebook_api.rstrip('/')}/{settings.facebook_graph_version}"
    url += "/me/messenger_profile"

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.post(
                url, params={"access_token": settings.facebook_page_token}, json=profile
            )

    try:
        response = asyncio.run(post())
    except httpx.HTTPError as exc:
        err.print(f"could not reach the Graph API: {type(exc).__name__}", markup=False)
        raise typer.Exit(1) from None
    if response.status_code != 200:
        error = _error_message(response)
        err.print(f"Meta answered {response.status_code}: {error}", markup=False)
        raise typer.Exit(1)
    locales = ", ".join(MENU_LOCALES)
    out.print(f"Get Started and the menu are set ({locales})", highlight=False)


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message", response.text))[:300]
    except (ValueError, AttributeError):
        return response.text[:300]


@facebook_app.command("link")
def link(
    source: Annotated[str, typer.Argument(help="A source id from the campaign, e.g. badet.")],
    page: Annotated[
        str | None, typer.Option("--page", help="The page's user name (TRYGG_FACEBOOK_PAGE_NAME)")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the QR codes.")] = Path("."),
) -> None:
    """Print the link m.me/PAGE?ref=SOURCE and write its QR code as PNG and SVG."""
    settings = Settings()
    require_source(settings, source)
    page = page or settings.facebook_page_name
    if not page:
        err.print("which page? give --page NAME or set TRYGG_FACEBOOK_PAGE_NAME", markup=False)
        raise typer.Exit(2)
    url = f"https://m.me/{page}?ref={source}"
    png, svg = write_qr(url, out_dir, f"messenger-{source}")
    out.print(url, highlight=False)
    err.print(f"wrote {png} and {svg}", markup=False)
