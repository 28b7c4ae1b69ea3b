"""Docs are checked: the CLI reference and the settings table match the code."""

from __future__ import annotations

from pathlib import Path

from legation.docs_cli import render, render_settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text("utf-8") == render(), "run `make docs`"


def test_settings_reference_is_current() -> None:
    assert (DOCS / "settings.md").read_text("utf-8") == render_settings(), "run `make docs`"


def test_readme_names_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    assert "make demo" in readme and "make test" in readme
