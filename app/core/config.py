"""One Settings object for the whole service, read from `ENHANCE_*` environment variables (or `.env`)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_CATALOG = Path(__file__).resolve().parents[1] / "models" / "catalog.toml"


def user_data_dir() -> Path:
    """Where a user's jobs and weights live by default: `$XDG_DATA_HOME/enhance` (`~/.local/share/enhance`).

    A user-writable place that does not depend on the working directory, so `enhance` works from anywhere.
    """
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "enhance"


DeviceName = str  # "auto", "cpu", "cuda", "cuda:1", "mps"
DtypeName = Literal["auto", "fp32", "fp16", "bf16"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENHANCE_", env_file=".env", extra="ignore")

    host: str = Field(default="127.0.0.1", description="bind address of `enhance serve`")
    port: int = Field(default=8000, description="port of `enhance serve`")

    data_dir: Path = Field(default_factory=user_data_dir, description="job store and job files")
    weights_dir: Path | None = Field(default=None, description="weight files; default: <data_dir>/weights")
    catalog_path: Path = Field(default=PACKAGED_CATALOG, description="weights catalogue; default: the packaged one")

    device: DeviceName = Field(default="auto", description="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
    dtype: DtypeName = Field(
        default="auto", description="auto: the fastest precision that stays within 45 dB of fp32, probed at load"
    )
    default_model: str = Field(default="realesrgan-x4plus", description="upscaler used when a request names none")
    default_video_model: str | None = Field(
        default="span-x4",
        description="upscaler for video jobs that name none: span-x4, the fast choice, 47x faster than x4plus on a "
        "CPU (Models: Choosing a model); empty: default_model",
    )
    default_deblur_model: str | None = Field(
        default=None, description="deblur model id or 'classical'; default: the first installed, else classical"
    )
    allow_unpinned_weights: bool = Field(
        default=True, description="load catalogue entries that pin no sha256 (upstream published none), with a warning"
    )
    preload: list[str] = Field(default_factory=list, description="model ids loaded at start-up")
    verify_checksums: bool = Field(default=True, description="refuse weights whose sha256 differs from the catalogue")

    tile: int = Field(default=0, ge=0, description="tile core size in input pixels; 0 picks one from free memory")
    tile_pad: int = Field(default=16, ge=0, description="context read around each tile, input pixels per side")
    min_tile: int = Field(default=32, ge=8, description="smallest tile tried after CUDA out-of-memory")
    threads: int = Field(default=0, ge=0, description="PyTorch intra-op threads; 0: the physical cores available")
    max_batch: int = Field(
        default=0, ge=0, description="most tiles the device batcher puts in one model call; 0: 8 on a GPU, 1 on CPU"
    )
    batch_wait_ms: float = Field(
        default=5.0, ge=0, description="longest the batcher holds a call open for other active requests' tiles"
    )
    image_concurrency: int = Field(
        default=8, ge=1, description="image requests processed at once (their model calls are batched together)"
    )
    image_queue: int = Field(
        default=16,
        ge=0,
        description="image (and score) requests admitted to wait beyond those running; the next one gets 503 with "
        "Retry-After at once, its upload unread",
    )
    submit_concurrency: int = Field(
        default=8, ge=1, description="job submissions spooled at once; as many more wait, the next one gets 503"
    )
    call_seconds: float = Field(
        default=1.0,
        ge=0,
        description="the longest one model call should last: work is cut into tiles that each take about this long, "
        "so an image request waits at most about this long behind a job frame, and a cancel or a hang-up is seen "
        "within it; 0: tiles sized by memory only",
    )
    idle_call_seconds: float = Field(
        default=10.0,
        ge=0,
        description="the longest one model call may last while no image request has come for "
        "ENHANCE_INTERACTIVE_WINDOW_SECONDS: larger tiles waste less on their borders (bounded calls cost job "
        "throughput); still bounds how late a cancel is seen and how long the first image request waits; 0: "
        "ENHANCE_CALL_SECONDS always",
    )
    interactive_window_seconds: float = Field(
        default=60.0, gt=0, description="calls stay within ENHANCE_CALL_SECONDS for this long after an image request"
    )

    api_keys: list[str] = Field(default_factory=list, description="JSON list; empty: no authentication")
    rate_limit: str = Field(
        default="",
        description="requests a key (a client address, without keys) may make to enhance, score and submit jobs, "
        "in the `limits` notation, e.g. `60/minute` or `1000/day`; empty: no limit; past it 429",
    )
    device_seconds_per_day: int = Field(
        default=0, ge=0, description="model time a key's image requests and jobs may use in any 24 h; 0: no limit"
    )
    max_active_jobs: int = Field(
        default=0, ge=0, description="jobs a key may have queued or running at once; 0: no limit; past it 429"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="where quota counters live: `memory://` (this process) or a Redis URL, shared by every API "
        "process and worker",
    )
    signed_link_seconds: int = Field(
        default=3600, ge=60, le=7 * 24 * 3600, description="lifetime of the signed artifact links a job lists"
    )
    webhook_secret: str | None = Field(
        default=None, description="signs job webhooks (HMAC-SHA256); without it, callback_url is refused"
    )
    webhook_allow: list[str] = Field(
        default_factory=list, description="JSON list of hosts or CIDRs webhooks may reach although not public"
    )
    webhook_retry_seconds: float = Field(default=5.0, gt=0, description="first retry delay; doubles up to 1 h")
    webhook_max_age_seconds: float = Field(default=24 * 3600.0, gt=0, description="retries stop this long after")
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="one delivery attempt's whole deadline: connect, send and read the answer"
    )
    webhook_lanes: int = Field(
        default=16, ge=1, description="receivers sent to at once; each receiver has at most one attempt in flight"
    )
    public_url: str = Field(
        default="", description="base URL put in webhook events' links, e.g. https://enhance.example"
    )
    cors_origins: list[str] = Field(default_factory=list, description="JSON list of allowed origins; empty: closed")
    max_data_bytes: int = Field(default=100 * 1024**3, description="disk quota for job data; new jobs get 507 over it")
    min_free_bytes: int = Field(
        default=1024**3, ge=0, description="free space the data disk keeps; new jobs get 507 below it"
    )
    log_json: bool = Field(default=False, description="one JSON object per log line, uvicorn's access lines included")
    memory_budget_bytes: int = Field(
        default=0,
        ge=0,
        description="host memory that image requests, job frames, scoring and thumbnails may use at once; 0: a share "
        "of RAM (below)",
    )
    memory_budget_share: float = Field(
        default=0.6, gt=0, le=1, description="share of RAM (or the cgroup limit) for work, when the budget is 0"
    )
    memory_wait_seconds: float = Field(
        default=30.0, ge=0, description="how long an image request waits for memory before 503 + Retry-After"
    )
    memory_max_waiting: int = Field(default=32, ge=0, description="image requests waiting for memory; more get 503")
    header_timeout_seconds: float = Field(
        default=30.0, gt=0, description="a connection whose request headers are not complete by then is closed"
    )
    body_min_rate: int = Field(
        default=1024, ge=0, description="bytes/s an upload must average after the grace period; 0: no minimum"
    )
    body_grace_seconds: float = Field(default=10.0, ge=0, description="time an upload may take before the rate counts")
    max_connections: int = Field(
        default=4096, ge=16, description="open connections; over it the longest-idle one is closed (fd limit bounds it)"
    )

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, description="image upload cap (413 above)")
    url_input_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a `url` input (instead of an uploaded file) must be downloaded within this many seconds, "
        "redirects included (422 after); its size has the upload caps",
    )
    url_input_allow: list[str] = Field(
        default_factory=list,
        description="JSON list of hosts or CIDRs a `url` input may reach although not public (an internal bucket; "
        "the tests' loopback server); everything else must resolve to public addresses, as for webhooks",
    )
    result_cache_bytes: int = Field(
        default=256 * 1024**2,
        ge=0,
        description="memory for the image route's result cache: the same input bytes with the same options (and "
        "weights) are answered without the device, least recently used out first; 0: no cache (ETag and "
        "If-None-Match still work)",
    )
    max_pixels: int = Field(
        default=50_000_000, description="decoded pixels of an image, checked from its header before decoding (413)"
    )
    max_side: int = Field(default=16384, description="longest side of an input image, in pixels (413 above)")
    max_scale: float = Field(default=8.0, description="largest `scale` a request may ask for")
    max_output_pixels: int = Field(default=400_000_000, description="largest output image or frame accepted (422)")

    queue: Literal["local", "celery"] = Field(default="local", description="local: in-process worker; celery")
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description="Celery broker (queue=celery)")
    job_timeout_seconds: int = Field(default=6 * 3600, gt=0, description="longest a job may run (Celery time limit)")
    job_lease_seconds: float = Field(
        default=30.0, gt=0, description="a running job's lease; its worker renews it, a dead worker's job is requeued"
    )
    max_attempts: int = Field(
        default=3,
        ge=0,
        description="a job whose worker dies (or stops renewing its lease) this many times fails with that reason "
        "instead of being requeued again; 0: no limit",
    )
    segment_frames: int = Field(
        default=240,
        ge=0,
        description="a video job that restores more frames than this is split into segments of about this many "
        "(at scene cuts where one is near) that any worker claims, leases and redoes alone; 0: never split",
    )
    worker_start_seconds: float = Field(
        default=120.0,
        gt=0,
        description="a Celery worker none of whose pool processes has started for this long stops with exit code 1 "
        "(its supervisor restarts it; its messages go back to the broker for live workers)",
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir")
    job_retention_hours: float = Field(default=168.0, gt=0, description="finished jobs and artifacts expire after")
    keep_failed_job_files: bool = Field(
        default=False,
        description="keep a cancelled or failed job's files (input, frames, partial outputs) until the retention "
        "sweep; by default they are deleted when the job ends (a job that failed part-way keeps the artifacts it "
        "published)",
    )
    max_job_upload_bytes: int = Field(default=2 * 1024**3, description="job upload cap, streamed to disk (413 above)")
    max_album_photos: int = Field(default=500, ge=1, description="photos in one album job (413 above)")
    max_album_bytes: int = Field(default=1024**3, ge=1, description="bytes of photos in one album job, zips unpacked")
    max_video_seconds: float = Field(default=3600.0, description="longest video accepted, checked at submit")
    max_video_frames: int = Field(default=200_000, description="most frames in a video, checked at submit")
    max_video_side: int = Field(default=7680, description="longest side of a video frame, checked at submit")
    max_job_estimate_seconds: float = Field(
        default=0.0,
        ge=0,
        description="refuse (422 `estimate-over-limit`, nothing queued) a job or album whose estimate (frames or "
        "photos x one frame's time on this device: the upscaler's measured time, or the catalogue's CPU prior before "
        "it has run, plus each frame's own cost; the jobs page's 'Cost before work') is over this many seconds; "
        "0: no limit",
    )
    gif_max_frames: int = Field(default=300, description="most frames in a comparison GIF")
    gif_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1 << 20, description="upper bound of a comparison GIF")
    video_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = Field(
        default="veryfast", description="x264 preset of the enhanced video (704x576: 10.5 ms a frame, medium 21.6)"
    )
    video_crf: int = Field(default=18, ge=0, le=51, description="x264 constant rate factor; lower is better")
    hw_encode: Literal["off", "auto"] = Field(
        default="off",
        description="auto: encode h264/hevc/av1 videos with the GPU's NVENC where this host has one (its quality "
        "value kept, NVENC's default preset), else and whenever it fails to open on the CPU; the job's report names "
        "the encoder that ran. off: the CPU encoders, with the preset the job asked for (H100/H200 have no NVENC)",
    )
    hw_decode: Literal["off", "auto"] = Field(
        default="off",
        description="auto: decode video jobs' frames on the GPU's NVDEC (FFmpeg's CUDA hwaccel) where this host has "
        "one (H100/H200 do), on the CPU where not or when it fails to open; off: on the CPU",
    )

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'enhance.db'}"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def weights_path(self) -> Path:
        return self.weights_dir or self.data_dir / "weights"

    @property
    def video_model(self) -> str:
        """What a video job that names no model runs."""
        return self.default_video_model or self.default_model


@lru_cache
def get_settings() -> Settings:
    return Settings()
