"""The command line: Typer commands, option parsing, wiring, errors to exit codes."""
