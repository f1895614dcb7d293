"""Low light and photo denoise (#28) from the web page, in real Chromium (the fixtures of `test_web`; skipped, with
the reason, where Chromium or Playwright is not installed): `model=none` with `light=on` brightens a dark photo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.test_web import browser, page, site  # noqa: F401 (fixtures)
from tests.inference.test_light import darkened
from tests.support.images import png_bytes, skimage_rgb

pytestmark = pytest.mark.slow

MEAN_OF_AFTER = """() => {
  const img = document.querySelector('#after');
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum += data[i] + data[i + 1] + data[i + 2];
  return sum / (data.length / 4 * 3);
}"""


def test_the_page_brightens_and_denoises_without_an_upscaler(page, tmp_path: Path) -> None:  # noqa: F811
    dark = darkened(skimage_rgb("astronaut", 96))
    path = tmp_path / "dark.png"
    path.write_bytes(png_bytes(dark))
    page.select_option("#model", "none")
    page.select_option("#light", "on")
    page.select_option("#denoise_photo", "auto")
    page.set_input_files("#file", str(path))
    page.click("#go")
    page.wait_for_function("document.querySelector('#message').textContent.startsWith('Done')", timeout=120_000)
    assert "with none" in page.text_content("#message") and "96x96" in page.text_content("#message")
    page.wait_for_function("document.querySelector('#after').naturalWidth === 96")
    assert page.evaluate(MEAN_OF_AFTER) > float(dark.mean()) + 30  # brightened, not just passed through
