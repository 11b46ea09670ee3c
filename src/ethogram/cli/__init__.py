"""Command-line interface (typer). Heavy modules are imported inside commands."""
