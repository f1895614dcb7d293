"""The web page in real Chromium (Debian's, driven by Playwright): upload, progress, slider, downloads, errors,
accessibility. Skipped, with the reason, where Chromium or Playwright is not installed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from tests.support.images import FAST_MODEL, png_bytes, skimage_rgb
from tests.support.media import carphone_path
from tests.support.server import Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
KEY = "web-test-key"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Server(settings, tmp_path_factory.mktemp("web"))
    server.env.update({"ENHANCE_API_KEYS": f'["{KEY}"]', "ENHANCE_DEFAULT_MODEL": FAST_MODEL})
    server.start()
    try:
        yield server.url
    finally:
        server.kill()


@pytest.fixture()
def page(browser, site: str):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(site)
    page.get_by_text("API key", exact=True).click()  # the <details> summary
    page.fill("#api-key", KEY)
    page.dispatch_event("#api-key", "change")
    page.wait_for_function("document.querySelector('#model').options.length > 1")
    yield page
    context.close()


def test_every_control_is_labelled(page) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button')]
              .filter(el => !(el.labels && el.labels.length)
                            && !el.getAttribute('aria-label') && !el.textContent.trim())
              .map(el => el.id || el.outerHTML)"""
    )
    assert unlabelled == []


def test_image_upload_slider_zoom_and_download(page, tmp_path: Path) -> None:
    photo = tmp_path / "coffee.png"
    photo.write_bytes(png_bytes(skimage_rgb("coffee", 64)))
    page.set_input_files("#file", str(photo))
    page.click("#go")
    page.wait_for_selector("#image-result:not([hidden])", timeout=60_000)
    assert page.evaluate("document.querySelector('#after').naturalWidth") == 256
    assert "Done in" in page.text_content("#message")
    page.focus("#slider")
    for _ in range(10):
        page.keyboard.press("ArrowLeft")  # the slider is keyboard-operable
    assert page.evaluate("document.querySelector('#before-clip').style.width") == "40%"
    assert "40% bicubic" in page.get_attribute("#slider", "aria-valuetext")
    page.fill("#zoom", "2")
    page.dispatch_event("#zoom", "input")
    assert "scale(2)" in page.evaluate("document.querySelector('#viewport').style.transform")
    assert page.get_attribute("#download-image", "href").startswith("blob:")
    shot = tmp_path / "image-result.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_video_job_shows_progress_gif_strip_and_downloads(page) -> None:
    page.set_input_files("#file", str(carphone_path()))
    page.fill("#frames", "0,30")
    page.check("#out-video")
    page.click("#go")
    page.wait_for_selector("#job-result:not([hidden])", timeout=120_000)
    assert page.evaluate("document.querySelectorAll('#strip img').length") == 2
    assert page.is_visible("#gif") and page.is_visible("#player")
    names = page.eval_on_selector_all("#artifacts a", "links => links.map(a => a.textContent)")
    assert any(n.startswith("enhanced.mp4") for n in names) and any(n.startswith("frames.zip") for n in names)
    with page.expect_download() as download:
        page.click("#artifacts a >> text=report.json")
    assert download.value.suggested_filename == "report.json"
    page.click("#refresh")
    page.wait_for_function("document.querySelectorAll('#recent li button').length >= 1")


def test_api_errors_are_shown_in_plain_words(page, tmp_path: Path) -> None:
    fake = tmp_path / "holiday.png"
    fake.write_text("this is not a picture")
    page.set_input_files("#file", str(fake))
    page.click("#go")
    page.wait_for_selector("#error:not([hidden])")
    assert "not a recognizable image" in page.text_content("#error")
    page.fill("#api-key", "wrong")
    page.dispatch_event("#api-key", "change")
    page.click("#go")
    page.wait_for_function("document.querySelector('#error').textContent.includes('API key')")


def test_no_layout_break_at_375_px(browser, site: str, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(site)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    context.close()


@pytest.mark.parametrize(
    ("path", "operation_selector"),
    [("/docs", ".opblock-summary-path"), ("/redoc", "[role=menuitem] label, li[data-item-id] label")],
)
def test_api_docs_list_the_operations_without_internet(
    browser, site: str, path: str, operation_selector: str, tmp_path: Path
) -> None:
    """Swagger UI and ReDoc render every operation with every request outside this server blocked, as on an
    air-gapped machine: their JS and CSS must come from the service itself."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(site):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    page.goto(site + path)
    page.wait_for_selector(operation_selector, timeout=30_000)
    listed = " ".join(page.locator(operation_selector).all_text_contents())
    if path == "/docs":
        for operation in ("/v1/images/enhance", "/v1/jobs", "/v1/jobs/{job_id}/events", "/v1/models"):
            assert operation in listed, listed
        assert page.locator(".opblock").count() >= 12
        assert page.get_by_role("button", name="Authorize").count() == 1  # the API key security scheme
    else:
        assert page.locator("h1").first.text_content().startswith("Enhance")
        for operation in ("Enhance an image", "Submit a job", "Follow a job's progress (SSE)"):
            assert operation in listed, listed
    page.screenshot(path=str(tmp_path / "docs.png"))  # kept by pytest's tmp_path for a person to look at
    context.close()
    assert outside == []
