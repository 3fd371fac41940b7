"""flask credentials new-key: a fresh signing key for CREDENTIAL_SIGNING_KEY."""

from __future__ import annotations

import click
from flask import Flask

from app.credentials.keys import new_secret_key_text


def register(app: Flask) -> None:
    """Add the ``flask credentials`` commands."""

    @app.cli.group("credentials")
    def credentials() -> None:
        """The signing key of the site's Open Badges credentials."""

    @credentials.command("new-key")
    def new_key() -> None:
        """Print a new random Ed25519 key, for CREDENTIAL_SIGNING_KEY (keep it secret; it is not stored)."""
        click.echo(new_secret_key_text())
