"""Good-photo filtering on real photos: ranking, verdicts, noise, the score endpoint and best-frame selection."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.quality.scores import Scores, Thresholds, score_image
from tests.support.blur import line_psf
from tests.support.images import frame_count, png_bytes
from tests.support.jobs import succeeded_report

COLOUR_PHOTOS = [
    "astronaut",
    "chelsea",
    "coffee",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "rocket",
    "colorwheel",
]


def original(name: str) -> np.ndarray:
    from skimage import data

    return getattr(data, name)()[..., :3].astype(np.float32) / 255


def degraded(image: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    kernel = line_psf(15, 30.0)
    noise = np.random.default_rng(seed).normal(0, 15 / 255, image.shape).astype(np.float32)
    return {
        "motion blur": cv2.filter2D(image, -1, kernel[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT),
        "gaussian blur": cv2.GaussianBlur(image, (0, 0), 3),
        "under-exposure": image * 0.3,
        "over-exposure": np.clip(image * 2.5, 0, 1),
        "noise": np.clip(image + noise, 0, 1),
    }


@pytest.fixture(scope="module")
def scored() -> list[tuple[str, Scores, dict[str, Scores]]]:
    rows = []
    for seed, name in enumerate(COLOUR_PHOTOS):
        image = original(name)
        rows.append((name, score_image(image), {k: score_image(v) for k, v in degraded(image, seed).items()}))
    return rows


def test_originals_outrank_their_degraded_copies(scored: list) -> None:  # type: ignore[type-arg]
    pairs = [(o.quality > d.quality, name, kind) for name, o, ds in scored for kind, d in ds.items()]
    assert len(pairs) >= 40
    wins = sum(win for win, _, _ in pairs)
    assert wins / len(pairs) >= 0.95, [p for p in pairs if not p[0]]


def test_verdicts(scored: list) -> None:  # type: ignore[type-arg]
    originals = [o.verdict == "keep" for _, o, _ in scored]
    degraded_rejected = [d.verdict == "reject" for _, _, ds in scored for d in ds.values()]
    assert sum(originals) / len(originals) >= 0.9
    assert sum(degraded_rejected) / len(degraded_rejected) >= 0.9
    reasons = {kind: d.reasons for _, _, ds in scored[:1] for kind, d in ds.items()}
    assert any(r.startswith("motion blur") for r in reasons["motion blur"])
    assert any(r.startswith("highlights clipped") for r in reasons["over-exposure"])
    assert any(r.startswith("noisy") for r in reasons["noise"])
    assert any(r.startswith("underexposed") for r in reasons["under-exposure"])


def test_noise_raises_gradients_but_not_the_score(scored: list) -> None:  # type: ignore[type-arg]
    for seed, name in enumerate(COLOUR_PHOTOS):
        image = original(name)
        noisy = degraded(image, seed)["noise"]
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        noisy_gray = cv2.cvtColor(noisy, cv2.COLOR_RGB2GRAY)
        assert cv2.Laplacian(noisy_gray, cv2.CV_32F).var() > cv2.Laplacian(gray, cv2.CV_32F).var()  # the trap
        assert score_image(noisy).quality < score_image(image).quality, name
        assert score_image(noisy).noise_sigma > 3 * score_image(image).noise_sigma


def test_thresholds_can_be_overridden() -> None:
    noisy = degraded(original("coffee"), 0)["noise"]
    assert score_image(noisy).verdict == "reject"
    lenient = Thresholds.with_overrides({"max_noise": 40, "min_quality": 0})
    assert score_image(noisy, lenient).verdict == "keep"
    with pytest.raises(ValueError, match="unknown"):
        Thresholds.with_overrides({"bogus": 1})


def _png(image: np.ndarray) -> bytes:
    return png_bytes((np.clip(image, 0, 1) * 255).round().astype(np.uint8))


def test_score_endpoint(client: TestClient) -> None:
    good = original("coffee")
    bad = degraded(good, 1)["motion blur"]
    files = [("files", ("good.png", _png(good))), ("files", ("bad.png", _png(bad)))]
    response = client.post("/v1/images/score", files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2
    by_name = {item["filename"]: item for item in body["data"]}
    assert by_name["good.png"]["verdict"] == "keep" and by_name["bad.png"]["verdict"] == "reject"
    assert by_name["bad.png"]["reasons"][0].startswith("motion blur")
    assert 0 <= by_name["bad.png"]["quality"] < by_name["good.png"]["quality"] <= 1
    scores = by_name["good.png"]["scores"]
    for key in (
        "sharpness",
        "motion_blur_px",
        "mean_luminance",
        "shadows_clipped",
        "highlights_clipped",
        "noise_sigma",
        "colourfulness",
        "phash",
    ):
        assert key in scores
    relaxed = client.post(
        "/v1/images/score",
        params={"thresholds": json.dumps({"max_motion_blur": 100, "min_sharpness": 0, "min_quality": 0})},
        files=[("files", ("bad.png", _png(bad)))],
    )
    assert relaxed.json()["data"][0]["verdict"] == "keep"
    assert client.post("/v1/images/score", params={"thresholds": '{"nope": 1}'}, files=files).status_code == 422
    assert client.post("/v1/images/score", files=[("files", ("x.png", b"garbage"))]).status_code == 422


def test_cli_score_prints_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import app

    monkeypatch.setenv("COLUMNS", "200")
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    good.write_bytes(_png(original("rocket")))
    bad.write_bytes(_png(degraded(original("rocket"), 2)["over-exposure"]))
    result = CliRunner().invoke(app, ["score", str(good), str(bad)])
    assert result.exit_code == 0, result.output
    assert "keep" in result.output and "reject" in result.output and "highlights clipped" in result.output


def test_select_best_picks_distinct_sharp_frames(client: TestClient, tmp_path: Path) -> None:
    from tests.support.media import clip_from_frames

    sources = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field"]
    frames: list[np.ndarray] = []
    sharp_indices: dict[int, str] = {}
    for name in sources:
        sharp = cv2.resize(original(name), (160, 128), interpolation=cv2.INTER_AREA)
        blurred = cv2.filter2D(sharp, -1, line_psf(13, 45.0)[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT)
        base = len(frames)
        frames += [blurred, sharp, sharp, blurred]  # blurred copies around an exact duplicate pair
        sharp_indices.update({base + 1: name, base + 2: name})
    clip = clip_from_frames(tmp_path / "shaky.mp4", [(f * 255).round().astype(np.uint8) for f in frames])
    report = succeeded_report(
        client, clip.read_bytes(), "shaky.mp4", select_best="4", model="realesr-animevideov3-x2", outputs="frames,gif"
    )
    chosen = [c for c in report["selection"] if c["chosen"]]
    assert len(chosen) == 4
    assert all(c["index"] in sharp_indices for c in chosen)  # sharp frames only
    assert len({sharp_indices[c["index"]] for c in chosen}) == 4  # four different scenes, no duplicates
    assert all(c["reason"] for c in report["selection"])
    assert any("near-duplicate" in c["reason"] for c in report["selection"] if not c["chosen"])
    assert [f["index"] for f in report["frames"]] == sorted(c["index"] for c in chosen)
    from PIL import Image

    gif = client.get(f"/v1/jobs/{report['job_id']}/artifacts/comparison.gif").content
    assert frame_count(Image.open(io.BytesIO(gif))) == 4
