"""CLI: set up the demo — role logins, then each app's demo data (demo_<app> commands)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser

from cdp.core.roles import INTEGRATION_ADMIN, MARKETER, PRIVACY_OFFICER

# Demo logins only: printed on purpose so a person trying CDP can sign in.
DEMO_USERS = (  # username, password, role (None: superuser)
    ("marketer", "marketer-demo", MARKETER),
    ("privacy", "privacy-demo", PRIVACY_OFFICER),
    ("integration", "integration-demo", INTEGRATION_ADMIN),
    ("admin", "admin-demo", None),
)
# Each app may ship a demo_<app> command; they run in dependency order when present.
APP_DEMOS = ("demo_profiles", "demo_consent", "demo_segments", "demo_campaigns")


class Command(BaseCommand):
    help = "Create demo logins for each role and load demo data (idempotent: skips if loaded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--force", action="store_true", help="load data even if present")

    def handle(self, *args: Any, **options: Any) -> None:
        created = self._users()
        already = User.objects.filter(username="marketer").exists() and not created
        if already and not options["force"]:
            self.stdout.write("Demo data already loaded (use --force to load again).")
        else:
            commands = get_commands()
            for name in APP_DEMOS:
                if name in commands:
                    extra = (
                        {"people": options["people"], "seed": options["seed"]}
                        if name == "demo_profiles"
                        else {}
                    )
                    call_command(name, stdout=self.stdout, **extra)
        self.stdout.write("")
        self.stdout.write("CDP demo is ready at http://127.0.0.1:8000/ — log in with:")
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {role or 'Superuser':<18} {username:<12} {password}")

    def _users(self) -> bool:
        created_any = False
        for username, password, role in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create_user(
                username,
                f"{username}@demo.cdp.local",
                password,
                is_staff=True,
                is_superuser=role is None,
            )
            if role:
                user.groups.add(Group.objects.get(name=role))
            created_any = True
        return created_any
