"""Jobs end to end through the API with real media: carphone, a panned clip with audio, images."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.support.images import FAST_MODEL, area_resize, decode_png, frame_count, png_bytes, psnr, skimage_rgb
from tests.support.jobs import JOBS, artifact, submit, wait
from tests.support.media import audio_packets, carphone_path, duration_seconds, panning_clip


def carphone_frames(indices: list[int]) -> dict[int, np.ndarray]:
    with av.open(str(carphone_path())) as container:
        return {i: f.to_ndarray(format="rgb24") for i, f in enumerate(container.decode(video=0)) if i in indices}


@pytest.fixture(scope="module")
def carphone_job(client: TestClient) -> dict[str, Any]:
    response = submit(client, carphone_path().read_bytes(), "carphone.mp4", frames="0,30,60,90", gif_max_width=480)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"{JOBS}/{response.json()['id']}"
    job = wait(client, response.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    return job


def test_carphone_frames_are_upscaled_and_consistent(client: TestClient, carphone_job: dict[str, Any]) -> None:
    names = {a["name"] for a in carphone_job["artifacts"]}
    expected = {f"frame_{i:06d}.png" for i in (0, 30, 60, 90)}
    assert expected <= names
    sources = carphone_frames([0, 30, 60, 90])
    for index, source in sources.items():
        out = np.asarray(Image.open(io.BytesIO(artifact(client, carphone_job, f"frame_{index:06d}.png"))))
        assert out.shape == (576, 704, 3)
        assert psnr(area_resize(out, 176, 144), source, peak=255) >= 28, index
    with zipfile.ZipFile(io.BytesIO(artifact(client, carphone_job, "frames.zip"))) as archive:
        assert sorted(archive.namelist()) == sorted(expected)


def test_carphone_gif_is_a_bounded_side_by_side(client: TestClient, carphone_job: dict[str, Any]) -> None:
    gif = Image.open(io.BytesIO(artifact(client, carphone_job, "comparison.gif")))
    assert gif.format == "GIF" and frame_count(gif) >= 4
    assert gif.width <= 480
    assert gif.width > gif.height  # two 704x576 frames side by side, scaled down together


def test_artifacts_list_sizes_and_checksums(client: TestClient, carphone_job: dict[str, Any]) -> None:
    import hashlib

    listing = client.get(f"{JOBS}/{carphone_job['id']}/artifacts").json()
    report = next(a for a in listing if a["name"] == "report.json")
    body = artifact(client, carphone_job, "report.json")
    assert report["size"] == len(body) and report["sha256"] == hashlib.sha256(body).hexdigest()
    data = json.loads(body)
    assert data["model"]["id"] == FAST_MODEL and [f["index"] for f in data["frames"]] == [0, 30, 60, 90]
    assert all(f["seconds"] > 0 for f in data["frames"])


def test_byte_ranges_on_artifacts(client: TestClient, carphone_job: dict[str, Any]) -> None:
    url = f"{JOBS}/{carphone_job['id']}/artifacts/frames.zip"
    whole = client.get(url).content
    response = client.get(url, headers={"Range": "bytes=0-3"})
    assert response.status_code == 206 and response.content == b"PK\x03\x04"
    assert client.get(url, headers={"Range": "bytes=-4"}).content == whole[-4:]
    # A unit or a syntax the server does not understand is ignored (RFC 9110): the whole file, 200.
    for ignored in ("items=0-3", "bytes=abc", "bytes=5-2", "bytes="):
        plain = client.get(url, headers={"Range": ignored})
        assert plain.status_code == 200 and plain.content == whole, ignored
    # A well-formed range past the end is a 416 problem that says how long the file is.
    past = client.get(url, headers={"Range": f"bytes={len(whole)}-"})
    assert past.status_code == 416 and past.headers["content-type"] == "application/problem+json"
    assert past.headers["content-range"] == f"bytes */{len(whole)}"
    assert past.json()["type"].endswith("range-not-satisfiable")


@pytest.mark.parametrize("name", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "input.video"])
def test_artifact_names_cannot_escape(client: TestClient, carphone_job: dict[str, Any], name: str) -> None:
    response = client.get(f"{JOBS}/{carphone_job['id']}/artifacts/{name}")
    assert response.status_code == 404
    assert b"root:" not in response.content


def test_video_output_keeps_duration_and_audio_packets(client: TestClient, tmp_path: Path) -> None:
    clip = panning_clip(tmp_path / "pan.mp4", frames=24, fps=12)
    job = wait(client, submit(client, clip.read_bytes(), "pan.mp4", outputs="video,gif").json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert json.loads(artifact(client, job, "report.json"))["outputs_built"] == "live"  # during the job
    out = tmp_path / "enhanced.mp4"
    out.write_bytes(artifact(client, job, "enhanced.mp4"))
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.codec_context.width, video.codec_context.height) == ("h264", 384, 256)
        assert container.streams.audio
        assert sum(1 for _ in container.decode(video=0)) == 24
    assert frame_count(Image.open(io.BytesIO(artifact(client, job, "comparison.gif")))) == 24
    assert abs(duration_seconds(out) - duration_seconds(clip)) <= 1 / 12
    assert audio_packets(out) == audio_packets(clip)


def test_every_audio_track_is_kept_with_its_language_and_title(client: TestClient, tmp_path: Path) -> None:
    """A clip with an English and a French track comes back with both, tagged, packet for packet (only the first
    was kept, tagged 'und'); the report says what was kept."""
    clip = panning_clip(tmp_path / "two.mp4", frames=12, fps=12, tracks=(("eng", "English"), ("fra", "Français")))
    job = wait(client, submit(client, clip.read_bytes(), "two.mp4", outputs="video").json()["id"])
    assert job["status"] == "succeeded", job["error"]
    out = tmp_path / "enhanced.mp4"
    out.write_bytes(artifact(client, job, "enhanced.mp4"))
    with av.open(str(out)) as container:
        tracks = [
            (s.metadata.get("language"), s.metadata.get("title") or s.metadata.get("name"))
            for s in container.streams.audio
        ]
    assert tracks == [("eng", "English"), ("fra", "Français")]
    for track in (0, 1):
        assert audio_packets(out, track) == audio_packets(clip, track)
    report = json.loads(artifact(client, job, "report.json"))["video_streams"]
    assert [(s["language"], s["title"]) for s in report["kept"]] == tracks and report["dropped"] == []


def test_phone_videos_come_out_upright(client: TestClient, tmp_path: Path) -> None:
    """A clip whose stream says "rotate 90" (display matrix): frames, GIF and video are upright (portrait), and the
    video needs no rotation to play upright (it came out sideways, with rotation 0)."""
    clip = panning_clip(tmp_path / "phone.mp4", frames=4, fps=12, size=(96, 64), audio=False, rotation=90)
    with av.open(str(clip)) as container:
        stored = next(container.decode(video=0))
        assert stored.rotation == 90
        sideways = stored.to_ndarray(format="rgb24")  # 64 x 96, as the sensor stored it
    job = wait(client, submit(client, clip.read_bytes(), "phone.mp4", outputs="frames,gif,video").json()["id"])
    assert job["status"] == "succeeded", job["error"]
    frame = decode_png(artifact(client, job, "frame_000000.png"))
    assert frame.shape == (4 * 96, 4 * 64, 3)  # portrait
    shown = area_resize(frame, 64, 96)
    assert psnr(shown, np.rot90(sideways, 1), peak=255) > psnr(shown, np.rot90(sideways, 3), peak=255) + 3
    assert Image.open(io.BytesIO(artifact(client, job, "comparison.gif"))).height > 0
    out = tmp_path / "enhanced.mp4"
    out.write_bytes(artifact(client, job, "enhanced.mp4"))
    with av.open(str(out)) as container:
        first = next(container.decode(video=0))
        assert (first.width, first.height, first.rotation) == (4 * 64, 4 * 96, 0)


def test_frame_range_every_n_and_max(client: TestClient) -> None:
    job = wait(
        client,
        submit(
            client,
            carphone_path().read_bytes(),
            "c.mp4",
            start=1.0,
            end=3.0,
            every_n=10,
            max_frames=3,
            outputs="frames",
        ).json()["id"],
    )
    assert job["status"] == "succeeded", job["error"]
    frames = sorted(a["name"] for a in job["artifacts"] if a["name"].startswith("frame_"))
    assert frames == ["frame_000030.png", "frame_000040.png", "frame_000050.png"]  # 30 fps: 1 s = frame 30
    assert job["progress"]["done"] == job["progress"]["total"] == 3


def test_image_job(client: TestClient) -> None:
    job = wait(
        client, submit(client, png_bytes(skimage_rgb("chelsea", 40)), "cat.png", gif_layout="flicker").json()["id"]
    )
    assert job["status"] == "succeeded", job["error"]
    assert Image.open(io.BytesIO(artifact(client, job, "frame_000000.png"))).size == (160, 160)
    assert frame_count(Image.open(io.BytesIO(artifact(client, job, "comparison.gif")))) == 2


def test_idempotency_key_returns_the_same_job(client: TestClient) -> None:
    data = png_bytes(skimage_rgb("coffee", 24))
    first = submit(client, data, "a.png", headers={"Idempotency-Key": "abc-123"})
    second = submit(client, data, "a.png", headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == 202 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["location"] == first.headers["location"] == f"{JOBS}/{first.json()['id']}"
    # the same key with another upload (or other options) is a mistake, not a replay
    other = submit(client, png_bytes(skimage_rgb("coffee", 16)), "a.png", headers={"Idempotency-Key": "abc-123"})
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    assert first.json()["id"] in other.json()["detail"]
    changed = submit(client, data, "a.png", headers={"Idempotency-Key": "abc-123"}, scale=2)
    assert changed.status_code == 422
    wait(client, first.json()["id"])


def test_listing_filters_and_paginates(client: TestClient) -> None:
    ids = [submit(client, png_bytes(skimage_rgb("astronaut", 16 + i)), f"{i}.png").json()["id"] for i in range(3)]
    for job_id in ids:
        wait(client, job_id)
    page = client.get(JOBS, params={"limit": 2, "status": "succeeded"}).json()
    assert page["count"] == 2 and page["next_cursor"]
    assert all(j["status"] == "succeeded" for j in page["data"])
    rest = client.get(JOBS, params={"limit": 200, "status": "succeeded", "cursor": page["next_cursor"]}).json()
    seen = [j["id"] for j in page["data"] + rest["data"]]
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)
    assert client.get(JOBS, params={"status": "bogus"}).status_code == 422
    unknown = client.get(JOBS, params={"cursor": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 400 and unknown.json()["type"].endswith("invalid-cursor")


def test_request_ids_are_kept_returned_and_put_in_problems(client: TestClient) -> None:
    mine = client.get("/v1/jobs/nope", headers={"X-Request-ID": "trace-42.a"})
    assert mine.headers["x-request-id"] == "trace-42.a"
    assert mine.status_code == 404 and mine.json()["request_id"] == "trace-42.a"
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32  # one is made when the client sends none
    odd = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert odd.headers["x-request-id"] != "bad id\twith spaces"


def sse_events(text: str) -> list[dict[str, str]]:
    """The events of an SSE body, each as its fields (comments such as `: ping` are kept under ':')."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            fields[name or ":"] = value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


def test_events_stream_progress_until_the_end(client: TestClient) -> None:
    job_id = submit(client, carphone_path().read_bytes(), "c.mp4", frames="0,1,2", outputs="frames").json()["id"]
    with client.stream("GET", f"{JOBS}/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events("".join(response.iter_text()))
    assert events[0]["event"] == "progress" and events[-1]["event"] == "end"
    progress = [e for e in events if e.get("event") == "progress"]
    ids = [int(e["id"]) for e in progress]
    assert ids == sorted(set(ids))  # every event id is newer than the one before
    last_progress = json.loads(progress[-1]["data"])
    assert last_progress["status"] == "succeeded" and last_progress["progress"]["done"] == 3

    # A client that reconnects with the last id it saw gets nothing it already has, only the end.
    with client.stream("GET", f"{JOBS}/{job_id}/events", headers={"Last-Event-ID": progress[-1]["id"]}) as response:
        resumed = sse_events("".join(response.iter_text()))
    assert [e["event"] for e in resumed] == ["end"] and json.loads(resumed[0]["data"]) == {"status": "succeeded"}
    with client.stream("GET", f"{JOBS}/{job_id}/events", headers={"Last-Event-ID": progress[0]["id"]}) as response:
        assert [e["event"] for e in sse_events("".join(response.iter_text()))] == ["progress", "end"]


def test_an_idle_event_stream_sends_keep_alive_comments(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job that makes no progress for a while: the stream still sends `: ping` comments so proxies keep it open
    (FastAPI's SSE sends one every 15 s; shortened here so the test is quick)."""
    import fastapi.routing

    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.3)
    store = client.app.state.api.services.store  # type: ignore[attr-defined]
    job, _ = store.create("video", "idle.mp4", {"outputs": ["frames"]}, None, None)  # stored, never enqueued
    seen = ""
    with client.stream("GET", f"{JOBS}/{job.id}/events") as response:
        for chunk in response.iter_text():
            seen += chunk
            if seen.count(": ping") >= 2:
                store.request_cancel(job.id)  # a queued job cancels at once: the stream ends
    events = sse_events(seen)
    assert events[0]["event"] == "progress" and json.loads(events[0]["data"])["status"] == "queued"
    assert sum(1 for e in events if ":" in e and e[":"] == "ping") >= 2
    assert events[-1]["event"] == "end" and json.loads(events[-1]["data"]) == {"status": "cancelled"}


def test_cancel_stops_within_a_frame(client: TestClient) -> None:
    job_id = submit(client, carphone_path().read_bytes(), "c.mp4", outputs="frames").json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"{JOBS}/{job_id}").json()["progress"]["done"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    cancelled_at = datetime.now(UTC)
    client.post(f"{JOBS}/{job_id}/cancel")
    job = wait(client, job_id)
    assert job["status"] == "cancelled"
    # Frames already restored still get written (they are finished work); at most one frame *starts* afterwards.
    frames = client.app.state.api.services.store.frames(job_id)  # type: ignore[attr-defined]
    started_after = [f for f in frames if f.finished_at - timedelta(seconds=f.seconds) > cancelled_at]
    assert len(started_after) <= 1
    assert len(frames) < 120
    assert client.delete(f"{JOBS}/{job_id}").status_code == 204
    assert client.get(f"{JOBS}/{job_id}").status_code == 404


def test_bad_inputs_are_refused_at_submit(client: TestClient, tmp_path: Path) -> None:
    whole = carphone_path().read_bytes()
    truncated = submit(client, whole[: len(whole) // 3], "cut.mp4")
    text = submit(client, b"this is not a video\n" * 50, "notes.mp4")
    audio_only = tmp_path / "tone.mp4"
    with av.open(str(audio_only), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    no_video = submit(client, audio_only.read_bytes(), "tone.mp4")
    for response in (truncated, text, no_video):
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert "no video stream" in no_video.json()["detail"]
    assert submit(client, png_bytes(skimage_rgb("coffee", 16)), "x.png", outputs="video").status_code == 422
    assert submit(client, png_bytes(skimage_rgb("coffee", 16)), "x.png", model="nope").status_code == 404
    assert submit(client, png_bytes(skimage_rgb("coffee", 16)), "x.png", frames="a,b").status_code == 422
    assert client.get("/healthz").status_code == 200


def test_a_video_damaged_part_way_keeps_the_frames_made_before_the_damage(client: TestClient) -> None:
    """Bytes zeroed at 30 % of carphone: FFmpeg decodes 31 frames, then fails. The job fails with the reason, and the
    frames, GIF, video and report made from the frames before the damage can still be downloaded."""
    damaged = bytearray(carphone_path().read_bytes())
    at = len(damaged) * 3 // 10
    damaged[at : at + 20_000] = bytes(20_000)
    response = submit(client, bytes(damaged), "damaged.mp4", every_n=10, outputs="frames,gif,video")
    assert response.status_code == 202, response.text
    job = wait(client, response.json()["id"])
    assert job["status"] == "failed"
    assert "decoding failed after frame 30" in job["error"] and "the 4 frames before it" in job["error"], job["error"]
    names = {a["name"] for a in job["artifacts"]}
    assert names == {f"frame_{i:06d}.png" for i in (0, 10, 20, 30)} | {
        "comparison.gif",
        "enhanced.mp4",
        "report.json",
        "frames.zip",
    }
    report = json.loads(artifact(client, job, "report.json"))
    assert [f["index"] for f in report["frames"]] == [0, 10, 20, 30]
    assert report["incomplete"].startswith("decoding failed after frame 30")
    assert frame_count(Image.open(io.BytesIO(artifact(client, job, "comparison.gif")))) == 4
    with av.open(io.BytesIO(artifact(client, job, "enhanced.mp4"))) as video:
        assert video.streams.video[0].frames == 31  # frames 0-30: each enhanced one held until the next (#26)


def test_unknown_job_ids(client: TestClient) -> None:
    assert client.get(f"{JOBS}/not-a-uuid").status_code == 404
    assert client.get(f"{JOBS}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.post(f"{JOBS}/00000000-0000-0000-0000-000000000000/cancel").status_code == 404


@pytest.mark.parametrize(("field", "value"), [("end", "inf"), ("start", "nan"), ("scale", "inf"), ("gif_fps", "nan")])
def test_non_finite_options_are_refused_at_submit(client: TestClient, field: str, value: str) -> None:
    form: dict[str, Any] = {field: value}
    response = submit(client, png_bytes(skimage_rgb("coffee", 16)), "x.png", **form)
    assert response.status_code == 422 and response.json()["type"].endswith("validation-error")
    assert field in response.json()["detail"]


def test_frames_and_outputs_take_commas_or_repeated_fields(client: TestClient) -> None:
    data = carphone_path().read_bytes()
    commas = submit(client, data, "c.mp4", frames="0,2", outputs="frames").json()
    repeated = client.post(
        JOBS,
        files=[("file", ("c.mp4", data))],
        data={"model": FAST_MODEL, "frames": ["0", "2"], "outputs": ["frames"]},
    ).json()
    assert commas["options"]["frames"] == repeated["options"]["frames"] == [0, 2]
    assert commas["options"]["outputs"] == repeated["options"]["outputs"] == ["frames"]
    for job in (commas, repeated):
        wait(client, job["id"])


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"codec": "theora"}, "codec"),
        ({"pix_fmt": "yuv999p"}, "pix_fmt"),
        ({"container": "flv"}, "container"),
        ({"crf": -1}, "crf"),
        ({"crf": 64}, "crf"),
        ({"crf": "best"}, "crf"),
    ],
)
def test_unknown_encodings_and_crf_out_of_range_are_422_naming_the_field(
    client: TestClient, form: dict[str, Any], field: str
) -> None:
    """#26's bad-input list at the job route (combinations: tests/media/test_encoders.py): nothing is queued."""
    before = {j["id"] for j in client.get(JOBS, params={"limit": 200}).json()["data"]}
    response = submit(client, carphone_path().read_bytes(), "c.mp4", outputs="video", frames="0", **form)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(f"{field}:"), response.json()
    assert {j["id"] for j in client.get(JOBS, params={"limit": 200}).json()["data"]} == before


def test_one_pixel_tiles_are_refused_on_both_routes(client: TestClient) -> None:
    """tile=1 made every pixel a padded model call (62 s for a 96x64 image): refused below ENHANCE_MIN_TILE."""
    data = png_bytes(skimage_rgb("coffee", 16))
    job = submit(client, data, "x.png", tile=1)
    image = client.post("/v1/images/enhance", params={"tile": 1, "model": FAST_MODEL}, files={"file": ("x.png", data)})
    for response in (job, image):
        assert response.status_code == 422 and "at least 32" in response.json()["detail"], response.text
    assert submit(client, data, "y.png", tile=0).status_code == 202  # 0 still means automatic


def test_jobs_apply_the_image_routes_size_caps_at_submit(client: TestClient) -> None:
    """A job whose frames would exceed the output cap (or whose input exceeds the pixel cap) is refused before it
    exists, as the image route refuses the same picture."""
    settings = client.app.state.api.services.settings  # type: ignore[attr-defined]
    capped = settings.model_copy(update={"max_output_pixels": 176 * 144 * 4, "max_pixels": 100_000})
    client.app.state.api.services.settings = capped  # type: ignore[attr-defined]
    try:
        clip = submit(client, carphone_path().read_bytes(), "c.mp4", frames="0", scale=4)  # 176x144 x4 > cap
        assert clip.status_code == 422 and "exceed" in clip.json()["detail"]
        assert submit(client, carphone_path().read_bytes(), "c.mp4", frames="0", scale=2).status_code == 202
        big = png_bytes(skimage_rgb("astronaut", 400))  # 160,000 pixels > 100,000
        job = submit(client, big, "big.png", scale=1)
        image = client.post("/v1/images/enhance", params={"scale": 1}, files={"file": ("big.png", big)})
        assert job.status_code == image.status_code == 413, (job.text, image.text)
    finally:
        client.app.state.api.services.settings = settings  # type: ignore[attr-defined]


def test_frames_past_the_declared_end_are_refused_at_submit(client: TestClient) -> None:
    response = submit(client, carphone_path().read_bytes(), "c.mp4", frames="0,999999999")
    assert response.status_code == 422 and "past the end" in response.json()["detail"]


@pytest.mark.parametrize("fields", [{"start": "1e308"}, {"end": "1e308"}, {"start": "1e308", "end": "2e308"}])
def test_absurd_start_and_end_are_refused_at_submit(client: TestClient, fields: dict[str, Any]) -> None:
    """Accepted once, then failed with "internal error: OverflowError" (#24)."""
    response = submit(client, carphone_path().read_bytes(), "c.mp4", **fields)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_start_past_the_clip_s_end_is_refused_at_submit(client: TestClient) -> None:
    response = submit(client, carphone_path().read_bytes(), "c.mp4", start="30")  # carphone lasts 4 s
    assert response.status_code == 422 and "past the end" in response.json()["detail"], response.text
    assert "30" in response.json()["detail"]


def _png_with_itxt(data: bytes, text_bytes: int) -> bytes:
    """A valid PNG with a large iTXt chunk right after IHDR (as photo editors write XMP)."""
    import struct
    import zlib

    body = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + b"x" * text_bytes
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    return data[:33] + chunk + data[33:]  # signature (8) + IHDR (25)


def test_both_routes_classify_the_same_bytes_the_same_way(client: TestClient) -> None:
    """An image whose metadata pushes the pixels past the first 64 KiB is an image on both routes, and a corrupt
    image is a 422 on both (the jobs route answered 415, taking it for an unknown video)."""
    photo = _png_with_itxt(png_bytes(skimage_rgb("coffee", 24)), 100_000)
    assert (
        client.post("/v1/images/enhance", params={"model": FAST_MODEL}, files={"file": ("a.png", photo)}).status_code
        == 200
    )
    accepted = submit(client, photo, "a.png")
    assert accepted.status_code == 202 and accepted.json()["kind"] == "image", accepted.text
    assert wait(client, accepted.json()["id"])["status"] == "succeeded"
    broken = png_bytes(skimage_rgb("coffee", 24))[:40] + b"\x00" * 200
    image = client.post("/v1/images/enhance", params={"model": FAST_MODEL}, files={"file": ("b.png", broken)})
    job = submit(client, broken, "b.png")
    assert image.status_code == job.status_code == 422, (image.text, job.text)


def test_frames_are_listed_with_source_enhanced_and_small_thumbnails(
    client: TestClient, carphone_job: dict[str, Any]
) -> None:
    frames = client.get(f"{JOBS}/{carphone_job['id']}/frames").json()
    assert [f["index"] for f in frames] == [0, 30, 60, 90]
    first = frames[1]
    source = Image.open(io.BytesIO(client.get(first["source_url"]).content))
    enhanced = Image.open(io.BytesIO(client.get(first["enhanced_url"]).content))
    assert source.size == (176, 144) and enhanced.size == (704, 576)
    expected = carphone_frames([30])[30]
    assert np.array_equal(np.asarray(source.convert("RGB")), expected)  # the decoded frame itself
    thumb = client.get(first["thumbnail_url"], params={"size": 96})
    assert thumb.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (96, 79) and len(thumb.content) < 20_000
    assert client.get(first["thumbnail_url"], params={"size": 4096}).status_code == 422  # bounded
    assert client.get(f"{JOBS}/{carphone_job['id']}/frames/31/enhanced").status_code == 404
    assert client.get(f"{JOBS}/{carphone_job['id']}/frames/30/other").status_code == 422
