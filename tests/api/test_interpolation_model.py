"""RIFE in the API (#27): listed as a frame interpolation model with its licence, and refused as an upscaler."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.images import png_bytes, skimage_rgb


def test_the_catalogue_lists_rife_as_an_mit_interpolation_model(client: TestClient) -> None:
    rife = {m["id"]: m for m in client.get("/v1/models").json()["data"]}["rife"]
    assert (rife["task"], rife["license"], rife["architecture"], rife["weights"]) == (
        "interpolate",
        "MIT",
        "RIFE",
        "present",
    )
    assert (rife["good_for"], rife["speed"]) == (["video"], "medium")  # 7.4 s per 640x360 frame on 2 busy cores


def test_an_image_with_the_interpolation_model_is_a_422_problem_naming_it(client: TestClient) -> None:
    image = png_bytes(skimage_rgb("astronaut", 16))
    response = client.post("/v1/images/enhance", params={"model": "rife"}, files={"file": ("in.png", image)})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert detail.startswith("rife is a") and "not an upscaler" in detail
