"""Create or reset the local demo superuser and print its credentials (`make run` calls this).

The credentials come from DEMO_ADMIN_USERNAME / DEMO_ADMIN_PASSWORD (defaults in README.md): the
account exists for trying the admin on 127.0.0.1, so the command refuses to run where
``DEMO_ADMIN_ALLOWED`` is off, as it is with the production settings.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from users.services import superuser_ensure


class Command(BaseCommand):
    help = "Create or reset the demo superuser (DEMO_ADMIN_USERNAME/DEMO_ADMIN_PASSWORD) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/admin/",
            help="Admin address printed with the credentials (make run passes its host and port).",
        )

    def handle(self, *args, url: str, **options) -> None:
        if not settings.DEMO_ADMIN_ALLOWED:
            raise CommandError(
                "Refusing to create a demo admin with these settings (DEMO_ADMIN_ALLOWED is off, "
                "as in production). Use `manage.py createsuperuser` instead."
            )
        username, password = settings.DEMO_ADMIN_USERNAME, settings.DEMO_ADMIN_PASSWORD
        _, created = superuser_ensure(username=username, password=password)
        self.stdout.write(
            self.style.SUCCESS(f"Demo admin account {'created' if created else 'reset'} (local demo only):")
        )
        self.stdout.write(f"  admin:    {url}\n  username: {username}\n  password: {password}")
