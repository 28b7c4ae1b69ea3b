"""The ``legation`` command line."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from legation.errors import LegationError
from legation.logs import configure_logging
from legation.partners_cli import partners_app
from legation.settings import Settings
from legation.web.cli import users_app

app = typer.Typer(
    help="Legation: protective intelligence for sites and people abroad.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
sites_app = typer.Typer(help="The site registry.", no_args_is_help=True)
ingest_app = typer.Typer(help="Bring reports in.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sites_app, name="sites")
app.add_typer(ingest_app, name="ingest")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(partners_app, name="partners")
out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    return settings


def _factory(settings: Settings) -> Any:
    from legation.storage.db import make_engine, session_factory

    return session_factory(make_engine(settings.sqlalchemy_url))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


def _report_problems(errors: list[str], warnings: list[str], limit: int = 20) -> None:
    for label, items, style in (("error", errors, "red"), ("warning", warnings, "yellow")):
        for item in items[:limit]:
            err.print(f"[{style}]{label}:[/] {item}", highlight=False, markup=True)
        if len(items) > limit:
            err.print(f"[{style}]… {len(items) - limit} more {label}s[/]")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema (run before serving)."""
    from legation.storage.migrate import upgrade

    settings = _settings()
    upgrade(settings.sqlalchemy_url, revision)
    out.print(f"database at revision {revision}: {_safe_url(settings.sqlalchemy_url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@sites_app.command("import")
def sites_import(path: Path) -> None:
    """Import sites from the Wikidata embassy CSV, a plain CSV or GeoJSON (idempotent)."""
    from legation.pipeline.registry import import_sites

    settings = _settings()
    with _progress() as progress:
        task = progress.add_task(f"importing {path.name}", total=None)
        result = import_sites(_factory(settings), path)
        progress.update(task, total=1, completed=1)
    _report_problems(result.errors, result.warnings, limit=5)
    out.print(
        f"sites: {result.added} added, {result.updated} updated, {result.unchanged} unchanged; "
        f"{result.unlocated} without coordinates, {len(result.errors)} rows skipped"
    )


def _store(batch: Any, settings: Settings) -> None:
    from legation.ingest.service import store_batch

    result = store_batch(_factory(settings), batch, max_bytes=settings.max_report_bytes)
    _report_problems(result.errors, batch.warnings)
    out.print(
        f"reports: {result.new} new, {result.near_duplicates} near duplicates, "
        f"{result.duplicates} already stored, {len(result.errors)} refused"
    )


@ingest_app.command("file")
def ingest_file(path: Path, source: str = "file") -> None:
    """One .txt, .html or .jsonl file (jsonl lines: text, title, url, published, language, id)."""
    from legation.ingest.documents import read_file

    settings = _settings()
    _store(read_file(path, source=source, max_bytes=settings.max_report_bytes), settings)


@ingest_app.command("folder")
def ingest_folder(path: Path, source: str = "folder") -> None:
    """Every supported file under a folder."""
    from legation.ingest.documents import read_folder

    settings = _settings()
    with _progress() as progress:
        task = progress.add_task(f"reading {path}", total=None)
        batch = read_folder(
            path,
            source=source,
            max_bytes=settings.max_report_bytes,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    _store(batch, settings)


@ingest_app.command("feed")
def ingest_feed(url: str, interval: int = 0, name: str = "") -> None:
    """Register an RSS/Atom feed; the worker polls it (conditional GET, backoff on failure)."""
    from legation.ingest.service import add_source
    from legation.storage.db import transaction

    settings = _settings()
    with transaction(_factory(settings)) as session:
        row = add_source(
            session,
            kind="feed",
            location=url,
            name=name,
            interval=interval or settings.feed_interval_seconds,
        )
        out.print(
            f"feed {row.location} registered; polled every {row.interval_seconds} s "
            "by `legation run`"
        )


@ingest_app.command("url")
def ingest_url(url: str) -> None:
    """One web page: its main text is extracted and queued."""
    import httpx

    from legation.ingest.documents import Batch
    from legation.ingest.web import fetch_page

    settings = _settings()
    with httpx.Client(timeout=settings.http_timeout_seconds) as client:
        report = fetch_page(client, url, max_bytes=settings.max_report_bytes)
    _store(Batch(reports=[report]), settings)


@app.command("run")
def run(
    once: Annotated[bool, typer.Option(help="Process what is queued, then stop.")] = False,
) -> None:
    """The worker: poll feeds, process reports, assess, alert, deliver, escalate."""
    from legation.pipeline.loop import run_worker, tick

    settings = _settings()
    factory = _factory(settings)
    if once:
        import httpx

        with httpx.Client(timeout=settings.http_timeout_seconds) as client, _progress() as progress:
            task = progress.add_task("processing reports", total=_pending(factory))
            while True:
                result = tick(factory, settings, client)
                progress.advance(task, result.batch.processed + result.batch.failed)
                if result.batch.processed + result.batch.failed == 0:
                    break
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err.print("worker running; Ctrl-C to stop")
    run_worker(factory, settings, stop=stop)


def _pending(factory: Any) -> int:
    from legation.storage.queue import queue_counts

    with factory() as session:
        return int(queue_counts(session).get("pending", 0))


@app.command("serve")
def serve() -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from legation.api import create_app

    settings = _settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


@app.command("scenario")
def scenario(
    path: Path, format: Annotated[str, typer.Option("--format", help="json or table")] = "table"
) -> None:
    """Run a scenario folder in a fresh temporary database and print the conclusions."""
    from legation.pipeline.scenario import run_scenario

    result = run_scenario(path)
    if format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_incidents(result["incidents"])
    _print_sites(result["sites"][:15])
    out.print(
        f"non-incidents: {', '.join(result['non_incidents']) or '—'}; "
        f"alerts: {len(result['alerts'])}"
    )


def _print_incidents(incidents: list[dict[str, Any]]) -> None:
    table = Table(title="Incidents")
    for column in ("id", "type", "date", "place", "killed", "injured", "reports"):
        table.add_column(column)
    for i in incidents:
        table.add_row(
            str(i["id"]),
            i["type"],
            str(i["date"]),
            f"{i['place']['name']} ({i['place']['country']})",
            str(i["killed"]),
            str(i["injured"]),
            ", ".join(i["reports"]),
        )
    out.print(table)


def _print_sites(sites: list[dict[str, Any]]) -> None:
    table = Table(title="Most threatened sites")
    for column in ("level", "site", "city", "because of incidents"):
        table.add_column(column)
    for s in sites:
        table.add_row(
            str(s["level"]), s["name"], s["city"], ", ".join(str(r) for r in s["reasons"])
        )
    out.print(table)


@app.command("extract")
def extract(
    format: Annotated[str, typer.Option("--format", help="jsonl (one object per line)")] = "jsonl",
) -> None:
    """Read report lines on stdin, write one extraction line per input line on stdout.

    Input lines: {"id", "text", "published"?, "language"?, "title"?}. A malformed line gets
    {"id", "error"} and the stream goes on; memory stays constant.
    """
    import sys

    from legation.extract.stream import extract_lines

    if format != "jsonl":
        raise typer.BadParameter(f"format {format!r}: only jsonl is supported")
    for line in extract_lines(sys.stdin):
        sys.stdout.write(line + "\n")


EVAL_FILES = {
    "wikipedia": "incidents/wikipedia-terror-incidents-2016-2022.json",
    "ucdp": "incidents/ucdp-ged-sample-1000.csv",
    "wcep": "incidents/wcep-2015-09.json",
}
OWN_GOLD = Path(__file__).resolve().parents[1] / "eval" / "gold" / "multilingual.jsonl"


@app.command("eval")
def evaluate(
    dataset: Annotated[str, typer.Argument(help="muc4, wikipedia, ucdp, wcep or multilingual")],
    split: Annotated[str, typer.Option(help="muc4 only: dev, or tst (tst1 + tst2)")] = "tst",
    data: Annotated[Path, typer.Option(help="the shared data folder")] = Path("../shared/data"),
    output: Annotated[Path | None, typer.Option(help="write the scores as JSON here")] = None,
) -> None:
    """Score the extractor on a gold dataset; prints a table, writes JSON."""
    if dataset == "muc4":
        doc = _evaluate_muc4(data, split)
    elif dataset in EVAL_FILES:
        doc = _evaluate_file(dataset, data / EVAL_FILES[dataset])
    elif dataset == "multilingual":
        doc = _evaluate_file(dataset, OWN_GOLD)
    else:
        raise typer.BadParameter(
            f"dataset {dataset!r}: use muc4, wikipedia, ucdp, wcep or multilingual"
        )
    if output is not None:
        output.write_text(json.dumps({"dataset": dataset, **doc}, indent=2) + "\n")


def _evaluate_muc4(data: Path, split: str) -> dict[str, Any]:
    from legation.evaluation.muc4 import evaluate_muc4, format_table

    root = data / "incidents" / "muc4"
    folders = [root / "dev"] if split == "dev" else [root / "tst1", root / "tst2"]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise typer.BadParameter(f"no MUC-4 folder at {', '.join(missing)} (see --data)")
    with _progress() as progress:
        task = progress.add_task(f"MUC-4 {split}", total=1300 if split == "dev" else 200)
        result = evaluate_muc4(folders, progress=lambda n: progress.advance(task, n))
    out.print(format_table(result), highlight=False)
    return {"split": split, **result.as_dict()}


def _evaluate_file(dataset: str, path: Path) -> dict[str, Any]:
    from legation.evaluation import datasets

    if not path.is_file():
        raise typer.BadParameter(f"no {dataset} data at {path} (see --data)")
    run = {
        "wikipedia": datasets.evaluate_wikipedia,
        "ucdp": datasets.evaluate_ucdp,
        "wcep": datasets.evaluate_wcep,
        "multilingual": datasets.evaluate_gold_jsonl,
    }[dataset]
    with _progress() as progress:
        task = progress.add_task(dataset, total=None)
        result = run(path, lambda n: progress.advance(task, n))
    table = Table(title=f"{dataset} ({path.name})")
    table.add_column("measure")
    table.add_column("value")
    for key, value in result.items():
        if isinstance(value, dict) and "share" in value:
            shown = f"{value['share']} % ({value['right']}/{value['total']})"
        elif isinstance(value, dict):
            shown = f"P {value['p']}  R {value['r']}  F1 {value['f1']}"
        else:
            shown = str(value)
        table.add_row(key, shown)
    out.print(table)
    return result


@app.command("check-config")
def check_config() -> None:
    """Validate settings, vocabularies and the database connection."""
    from sqlalchemy import text

    from legation.domain.vocab import taxonomy, threat_model
    from legation.extract.lexicon import SUPPORTED_LANGUAGES, lexicon
    from legation.storage.db import make_engine

    settings = _settings()
    taxonomy()
    threat_model()
    for language in SUPPORTED_LANGUAGES:
        lexicon(language)
    engine = make_engine(settings.sqlalchemy_url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    out.print(
        f"configuration ok: environment {settings.environment}, database "
        f"{_safe_url(settings.sqlalchemy_url)}, languages {', '.join(SUPPORTED_LANGUAGES)}"
    )


@keys_app.command("create")
def keys_create(
    name: str, role: Annotated[str, typer.Option(help="viewer, analyst or admin")] = "viewer"
) -> None:
    """Create an API key (printed once)."""
    from legation.storage.db import transaction
    from legation.storage.keys import create_key

    with transaction(_factory(_settings())) as session:
        key = create_key(session, name=name, role=role)
    out.print(key)


@app.command("demo")
def demo(serve_api: Annotated[bool, typer.Option("--serve/--no-serve")] = True) -> None:
    """Load the demo registry and reports, run the pipeline, show levels and alerts, serve."""
    from legation.pipeline.demo import run_demo

    settings = _settings()
    summary = run_demo(settings)
    _print_sites(summary["sites"][:10])
    table = Table(title=f"Alerts ({len(summary['alerts'])})")
    for column in ("level", "alert", "state"):
        table.add_column(column)
    for a in summary["alerts"][:10]:
        table.add_row(str(a["level"]), a["title"], a["state"])
    out.print(table)
    out.print(f"assessed as of {summary['as_of']} (the last report of the demo corpus)")
    if serve_api:
        out.print(
            f"API on http://{settings.host}:{settings.port}/docs — key: LEGATION_ADMIN_API_KEY "
            "(development default 'dev-admin-key'); Ctrl-C to stop"
        )
        login = summary["login"]
        how = (
            f"log in as {login['username']} with password {login['password']} (shown once)"
            if login
            else "log in with a user made earlier, or: legation users create NAME --role analyst"
        )
        out.print(f"dashboard on http://{settings.host}:{settings.port}/ — {how}")
        serve()


from legation.cli_screening import lists_app, screen_command  # noqa: E402

app.add_typer(lists_app, name="lists")
app.command("screen")(screen_command)


def main() -> None:
    try:
        app()
    except LegationError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise SystemExit(1) from exc
    except Exception as exc:
        from legation.storage.db import missing_table

        table = missing_table(exc)
        if table is None:
            raise
        err.print(
            f"[red]error:[/] the database has no table {table}: run `legation db upgrade` first",
            highlight=False,
        )
        raise SystemExit(1) from exc
