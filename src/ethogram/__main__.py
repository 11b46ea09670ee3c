"""``python -m ethogram`` runs the command-line interface."""

from ethogram.cli.main import run

if __name__ == "__main__":
    run()
