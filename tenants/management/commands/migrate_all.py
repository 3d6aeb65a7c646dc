from django.core.management.base import BaseCommand, CommandError

from core.version import version
from tenants import services


class Command(BaseCommand):
    help = ("Migrate the public schema, the client template and every client; report each "
            "client, go on past one that fails, and exit non-zero naming the failures.")

    def handle(self, *args, verbosity=1, **options):
        self.stdout.write(f"TuneAIBot {version()}: migrating the platform, the client "
                          "template and every client (see CHANGELOG.md for upgrade notes).")
        def reported(name: str, applied: int, error: str) -> None:
            if error:
                self.stdout.write(self.style.ERROR(f"{name}: FAILED ({error.splitlines()[0]})"))
            elif applied:
                self.stdout.write(f"{name}: {applied} migration(s) applied")
            else:
                self.stdout.write(f"{name}: up to date")

        report = services.migrate_all(verbosity=max(0, verbosity - 1), on_schema=reported)
        if not report.ok:
            lines = "\n".join(f"  {name}: {error}" for name, error in report.failed.items())
            raise CommandError(
                f"{len(report.failed)} schema(s) could not be migrated:\n{lines}\n"
                "The others are up to date. Fix the cause (see the log above) and run "
                "migrate_all again: it continues where it stopped.")
        self.stdout.write(self.style.SUCCESS(
            f"All schemas are up to date ({len(report.applied)} checked)."))
