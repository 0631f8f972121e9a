"""`python -m cli` runs `prov`."""

from cli.main import app

app()
