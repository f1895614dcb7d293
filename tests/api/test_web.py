"""The web page in real Chromium (Debian's, driven by Playwright): upload, progress, slider, downloads, errors,
accessibility. Skipped, with the reason, where Chromium or Playwright is not installed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

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


def _open(browser, site: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 740})
    page = context.new_page()
    page.goto(site)
    page.get_by_text("API key", exact=True).click()  # the <details> summary
    page.fill("#api-key", KEY)
    page.dispatch_event("#api-key", "change")
    page.wait_for_function("document.querySelector('#model').options.length > 1")
    return context, page


@pytest.fixture()
def page(browser, site: str):
    context, page = _open(browser, site, 1200)
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


def _rect(page, selector: str) -> dict[str, float]:
    return page.eval_on_selector(selector, "el => { const r = el.getBoundingClientRect(); "
                                 "return {x: r.x, y: r.y, w: r.width, h: r.height}; }")  # fmt: skip


def _inside(inner: dict[str, float], outer: dict[str, float], slack: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + slack
        and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + slack
    )


def _labels_show(shot: Path, page) -> None:
    """What a person sees: each label is a dark box with light text, inside the stage's screenshot."""
    stage = _rect(page, "#stage")
    image = np.asarray(Image.open(shot).convert("L")).astype(int)
    for tag in ("#tag-before", "#tag-after"):
        r = _rect(page, tag)
        assert _inside(r, stage), tag
        x, y = int(r["x"] - stage["x"]), int(r["y"] - stage["y"])
        box = image[y : y + int(r["h"]), x : x + int(r["w"])]
        assert box.size and (box < 70).mean() > 0.3 and (box > 200).any(), tag


def _wait_layer_settled(page) -> None:
    page.wait_for_function("document.querySelector('#layer').style.transform.includes('scale')")


@pytest.mark.parametrize("width", [1280, 375])
def test_image_result_fits_then_zooms_and_pans_with_both_sides_aligned(
    browser, site: str, width: int, tmp_path: Path
) -> None:
    context, page = _open(browser, site, width)
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(png_bytes(skimage_rgb("astronaut", 300)))
    page.set_input_files("#file", str(photo))
    assert page.is_hidden("#video-options")  # frame options are for videos only
    page.click("#go")
    page.wait_for_selector("#viewer:not([hidden])", timeout=120_000)
    _wait_layer_settled(page)
    assert page.evaluate("document.querySelector('#after').naturalWidth") == 1200
    assert "Done in" in page.text_content("#message")
    stage, layer = _rect(page, "#stage"), _rect(page, "#layer")
    viewport = page.evaluate("({w: innerWidth, h: innerHeight})")
    # Fitted by default: the whole 1200x1200 result is inside the stage, and the stage fits the window.
    assert _inside(layer, stage) and stage["w"] <= viewport["w"] and stage["h"] <= viewport["h"]
    assert max(layer["w"], layer["h"]) >= 0.95 * min(stage["w"], stage["h"])
    page.locator("#stage").scroll_into_view_if_needed()
    shot = tmp_path / f"image-{width}.png"
    page.locator("#stage").screenshot(path=str(shot))
    _labels_show(shot, page)
    page.screenshot(path=str(tmp_path / f"image-page-{width}.png"), full_page=True)

    page.focus("#slider")
    for _ in range(10):
        page.keyboard.press("ArrowLeft")  # the slider is keyboard-operable
    assert "40% bicubic" in page.get_attribute("#slider", "aria-valuetext")
    divider = _rect(page, "#divider")
    assert abs(divider["x"] - (stage["x"] + 0.4 * stage["w"])) <= 2

    page.click("#zoom-actual")
    assert page.text_content("#zoom-level") == "100%"
    page.focus("#stage")
    for key in ("ArrowLeft", "ArrowLeft", "ArrowUp"):
        page.keyboard.press(key)  # pan
    after, before = _rect(page, "#after"), _rect(page, "#before")
    assert after == before  # one layer moves both sides: they stay aligned at any zoom and pan
    assert after["w"] == pytest.approx(1200, abs=1)  # 1:1 output pixels
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert page.text_content("#zoom-level") == "64%"
    stage = _rect(page, "#stage")
    page.mouse.move(stage["x"] + stage["w"] / 2, stage["y"] + stage["h"] / 2)
    page.mouse.wheel(0, -600)  # the wheel zooms in around the pointer
    page.wait_for_function("parseInt(document.querySelector('#zoom-level').textContent) > 64")
    page.click("#zoom-fit")
    _labels_show(shot, page)  # the labels never move with the image
    page.locator("#stage").screenshot(path=str(tmp_path / f"image-zoomed-{width}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_video_job_frame_picker_switches_the_compared_frame(browser, site: str, width: int, tmp_path: Path) -> None:
    context, page = _open(browser, site, width)
    page.set_input_files("#file", str(carphone_path()))
    assert page.is_visible("#video-options")
    page.fill("#frames", "0,30,60")
    page.check("#out-video")
    page.click("#go")
    page.wait_for_selector("#job-result:not([hidden])", timeout=180_000)
    page.wait_for_selector("#viewer:not([hidden])")
    _wait_layer_settled(page)
    assert page.is_hidden("#cancel")
    assert page.is_visible("#gif") and page.is_visible("#player")
    thumbs = page.eval_on_selector_all("#strip img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert len(thumbs) == 3 and all(max(t) <= 120 for t in thumbs)  # small images from the API, not the PNGs
    assert "frame 0" in page.text_content("#viewer-title")
    _inside(_rect(page, "#layer"), _rect(page, "#stage"))
    first = page.evaluate("document.querySelector('#after').src")
    page.click("#strip button >> nth=2")
    page.wait_for_function("document.querySelector('#viewer-title').textContent.includes('frame 60')")
    _wait_layer_settled(page)
    assert page.evaluate("document.querySelector('#after').src") != first
    assert page.input_value("#frame-select") == "60"
    assert _inside(_rect(page, "#layer"), _rect(page, "#stage"))  # the new frame is fitted too
    page.locator("#stage").scroll_into_view_if_needed()
    shot = tmp_path / f"video-{width}.png"
    page.locator("#stage").screenshot(path=str(shot))
    _labels_show(shot, page)
    page.screenshot(path=str(tmp_path / f"video-page-{width}.png"), full_page=True)
    # Downloads are real, signed URLs: they open in a new tab without the API key.
    links = page.eval_on_selector_all("#artifacts li > a[target=_blank]", "as => as.map(a => a.href)")
    assert any("/artifacts/enhanced.mp4?expires=" in href for href in links)
    report = next(href for href in links if "/artifacts/report.json?" in href)
    assert context.request.get(report).ok  # a plain request, no key header
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()


def test_a_running_job_can_be_cancelled(page) -> None:
    page.set_input_files("#file", str(carphone_path()))
    page.select_option("#model", "realesrgan-x4plus")  # slow on a CPU: seconds per frame
    page.click("#go")
    page.wait_for_selector("#cancel:not([hidden])")
    page.wait_for_function("document.querySelector('#message').textContent.startsWith('running')", timeout=60_000)
    assert page.text_content("#elapsed").startswith("Running")
    page.click("#cancel")
    page.wait_for_function("document.querySelector('#error').textContent.includes('cancelled')", timeout=60_000)
    assert page.is_hidden("#cancel")


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


def test_an_album_shows_its_contact_sheet_and_the_chosen_photos(page, tmp_path: Path) -> None:
    paths = []
    for name in ("astronaut", "coffee"):
        path = tmp_path / f"{name}.png"
        path.write_bytes(png_bytes(skimage_rgb(name, 160)))
        paths.append(str(path))
    dark = tmp_path / "coffee-dark.png"
    dark.write_bytes(png_bytes((skimage_rgb("coffee", 160) * 0.15).astype(np.uint8)))
    paths.append(str(dark))
    page.set_input_files("#file", paths)
    assert page.is_visible("#album-options") and page.is_hidden("#video-options")
    assert "3 photos" in page.text_content("#file-name")
    page.click("#go")
    page.wait_for_selector("#job-result:not([hidden])", timeout=120_000)
    page.wait_for_function("document.querySelector('#contact-sheet').naturalWidth > 0")
    assert page.evaluate("document.querySelector('#contact-sheet').naturalWidth") == 3 * 220
    assert "2 photo(s) enhanced" in page.text_content("#message")
    page.wait_for_selector("#viewer:not([hidden])")  # after the strip of the chosen photos to compare is built
    assert page.evaluate("document.querySelectorAll('#strip img').length") == 2
    assert "photo 0" in page.text_content("#viewer-title")
    assert page.is_hidden("#gif") and page.is_hidden("#player")  # an album has neither
    page.screenshot(path=str(tmp_path / "album.png"), full_page=True)


def test_the_denoise_menu_follows_the_model_and_runs_the_level(page, tmp_path: Path) -> None:
    options = page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
    assert "realcugan-x2" in options and "realcugan-x2-denoise2" not in options  # variants sit behind Denoise
    page.select_option("#model", "span-x4")
    assert page.is_disabled("#denoise")
    page.select_option("#model", "realcugan-x2")
    assert not page.is_disabled("#denoise")
    levels = page.eval_on_selector_all("#denoise option", "els => els.map(e => e.value)")
    assert levels == ["", "1", "2", "3"]
    page.select_option("#denoise", "2")
    photo = tmp_path / "cat.png"
    photo.write_bytes(png_bytes(skimage_rgb("chelsea", 48)))
    page.set_input_files("#file", str(photo))
    page.click("#go")
    page.wait_for_function("document.querySelector('#message').textContent.startsWith('Done')", timeout=60_000)
    assert "realcugan-x2-denoise2" in page.text_content("#message")
    # the page's second model load (the API key's) used to reset the user's choice to the default
    assert (page.input_value("#model"), page.input_value("#denoise")) == ("realcugan-x2", "2")
    page.screenshot(path=str(tmp_path / "denoise.png"))
    shown = np.asarray(Image.open(tmp_path / "denoise.png").convert("L"))
    assert shown.std() > 10  # a rendered page, not a blank one


def test_burst_deblur_is_offered_for_videos_and_reaches_the_job(page) -> None:
    """The page sends deblur=burst with a video job, and the job's report says each frame was fused with its
    neighbours (an image with burst gets the API's plain-words refusal instead)."""
    page.set_input_files("#file", str(carphone_path()))
    page.fill("#frames", "0,30")
    page.select_option("#deblur", "burst")
    report = _job_report(page)
    assert [frame["deblur"]["mode"] for frame in report["frames"]] == ["burst", "burst"]


def test_a_temporal_model_is_offered_for_videos_only_and_runs_the_job(page, tmp_path: Path) -> None:
    """BasicVSR is listed as video only: a photo cannot pick it; a video job with it reports its frames made by it."""
    labels = page.eval_on_selector_all("#model option", "els => els.map(e => e.textContent)")
    assert any(label.startswith("basicvsr-vimeo-bi") and "video only" in label for label in labels)
    photo = tmp_path / "cat.png"
    photo.write_bytes(png_bytes(skimage_rgb("chelsea", 48)))
    page.set_input_files("#file", str(photo))
    assert page.eval_on_selector("#model option[value='basicvsr-vimeo-bi']", "o => o.disabled")
    page.set_input_files("#file", str(carphone_path()))
    page.select_option("#model", "basicvsr-vimeo-bi")
    page.fill("#frames", "0,1,2")
    report = _job_report(page)
    assert [frame["index"] for frame in report["frames"]] == [0, 1, 2]
    assert report["model"]["id"] == "basicvsr-vimeo-bi"


def _job_report(page: Any) -> dict[str, Any]:
    """Send the form's job, wait for its result, and read its report.json through the page's artifact link."""
    page.click("#go")
    page.wait_for_selector("#job-result:not([hidden])", timeout=180_000)
    links = page.eval_on_selector_all("#artifacts li > a[target=_blank]", "as => as.map(a => a.href)")
    report: dict[str, Any] = page.context.request.get(
        next(href for href in links if "/artifacts/report.json?" in href)
    ).json()
    return report
