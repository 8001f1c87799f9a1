"""MkDocs hook: the command-line reference (docs/cli.md) written from the `hild` Typer app itself, so that it
never drifts from the commands: the `<!-- hild-cli -->` marker becomes each command's --help text."""
from __future__ import annotations

MARKER = "<!-- hild-cli -->"
PER_MODEL = ("run", "sweep")
"""Groups with one command per registered model: the group's help lists them (`hild run MODEL --help` shows one);
their other commands (`hild sweep status`) are shown."""


def _reference() -> str:
    import typer
    from typer.testing import CliRunner

    from hild.cli import app
    from hild.core.registry import models

    runner = CliRunner()
    group = typer.main.get_command(app)
    out = []

    def visit(command, path):
        help_text = runner.invoke(app, path[1:] + ["--help"], env={"COLUMNS": "100", "NO_COLOR": "1",
                                                                  "TERM": "dumb"}, prog_name="hild").output
        out.extend([f"## `{' '.join(path)}`", "", "```text", help_text.rstrip(), "```", ""])
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):
                if not (len(path) == 2 and path[1] in PER_MODEL and name in models()):
                    visit(command.get_command(None, name), path + [name])

    visit(group, ["hild"])
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files):
    return markdown.replace(MARKER, _reference()) if MARKER in markdown else markdown
