"""Create or reset the local demo superuser and print its credentials (`make run` calls this).

The credentials come from DEMO_ADMIN_USERNAME / DEMO_ADMIN_PASSWORD (defaults in README.md): the
account exists for trying the admin on 127.0.0.1, so the command refuses to run where
``DEMO_ADMIN_ALLOWED`` is off, as it is with the production settings. Served on an address other
machines can reach (``make run HOST=0.0.0.0``), its printed password would be everyone's: there the
command creates nothing (and deactivates a demo admin still holding the demo password) unless
``DEMO_ADMIN_ON_PUBLIC_HOST=1`` says that is intended.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from users.models import User
from users.services import superuser_ensure


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address) is reachable only from this machine."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
        host = urlsplit(url).hostname or ""
        if not is_loopback(host) and not settings.DEMO_ADMIN_ON_PUBLIC_HOST:
            self._refuse_public(host, username, password)
            return
        _, created = superuser_ensure(username=username, password=password)
        self.stdout.write(
            self.style.SUCCESS(f"Demo admin account {'created' if created else 'reset'} (local demo only):")
        )
        self.stdout.write(f"  admin:    {url}\n  username: {username}\n  password: {password}")

    def _refuse_public(self, host: str, username: str, password: str) -> None:
        existing = User.objects.filter(username=username, is_active=True).first()
        if existing is not None and existing.check_password(password):
            existing.is_active = False
            existing.save(update_fields=["is_active"])
            self.stdout.write(self.style.WARNING(f"Deactivated the demo admin {username!r} (demo password)."))
        self.stdout.write(
            self.style.WARNING(
                f"Not creating the demo admin: {host or 'this address'} is reachable from other machines. "
                "Use `manage.py createsuperuser`, or set DEMO_ADMIN_ON_PUBLIC_HOST=1 to create it anyway."
            )
        )
