"""``manage.py upscope_sync``: refresh the local mirror from Upscope."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_upscope import mirror
from django_upscope.exceptions import UpscopeError


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Fetch visitors from Upscope (the list, then each visitor's details with its sessions) "
        "and upsert them into the local mirror, in batches. Prints progress and a summary "
        "line 'created=N updated=N unchanged=N failed=N skipped=N' (skipped: deleted in "
        "Upscope during the sync); exits non-zero on failure. Safe to re-run: unchanged "
        "visitors are not written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--search",
            metavar="QUERY",
            default=None,
            help="Sync only the visitors matching this Upscope search (e.g. '#customer').",
        )
        parser.add_argument(
            "--with-history",
            action="store_true",
            help="Also fetch and store each visitor's pageviews and screenshots (cloud only).",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Check every local visitor the listing did not return with Upscope and mark "
            "the ones Upscope answers 404 for as removed upstream (removed_upstream_at). "
            "Not allowed with --search. Without --prune nothing local is marked or removed.",
        )
        parser.add_argument(
            "--delete",
            action="store_true",
            help="With --prune: delete those visitors (and their sessions) from the mirror "
            "instead of marking them.",
        )
        parser.add_argument(
            "--batch-size",
            type=_positive_int,
            default=mirror.DEFAULT_BATCH_SIZE,
            metavar="N",
            help=f"Visitors fetched and written per transaction (default "
            f"{mirror.DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--no-usage",
            action="store_true",
            help="Do not store a usage snapshot after the sync.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["delete"] and not options["prune"]:
            raise CommandError("--delete only makes sense with --prune.")
        try:
            # Refused before anything is fetched, with the sync's own message.
            mirror.check_sync_options(
                query=options["search"], prune=options["prune"], batch_size=options["batch_size"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verbosity = options["verbosity"]

        def progress(done: int, total: int, result: mirror.SyncResult) -> None:
            if verbosity >= 1 and total > options["batch_size"]:
                self.stdout.write(f"  {done}/{total} visitors  {result.summary()}")

        try:
            report = mirror.sync_from_upscope(
                query=options["search"],
                with_history=options["with_history"],
                prune=options["prune"],
                delete_pruned=options["delete"],
                batch_size=options["batch_size"],
                usage=not options["no_usage"],
                progress=progress,
            )
        except UpscopeError as exc:
            raise CommandError(f"Upscope sync stopped: {exc.message} [{exc.code}]") from exc
        if verbosity >= 1:
            self._describe(report, options)
        if report.usage_error is not None:
            self.stderr.write(
                f"Warning: could not store a usage snapshot: {report.usage_error.message} "
                f"[{report.usage_error.code}]"
            )
        result = report.result
        self.stdout.write(result.summary())
        if result.failed:
            codes = ", ".join(f"{code}: {n}" for code, n in sorted(report.errors.items()))
            raise CommandError(
                f"{result.failed} visitors could not be fetched from Upscope ({codes}); "
                "the others were synced. Run the sync again to retry them."
            )

    def _describe(self, report: mirror.SyncReport, options: dict[str, Any]) -> None:
        """The lines printed before the summary at verbosity 1 and above."""
        result = report.result
        self.stdout.write(
            f"Listed {report.listed} visitors"
            + (f" matching {options['search']!r}" if options["search"] else "")
            + f"; sessions created={result.sessions_created} "
            f"updated={result.sessions_updated} unchanged={result.sessions_unchanged}."
        )
        if result.skipped:
            self.stdout.write(
                f"{result.skipped} visitors were deleted in Upscope during the sync "
                "(404) and were skipped."
            )
        if options["prune"]:
            verb = "deleted from" if options["delete"] else "marked as removed in"
            self.stdout.write(
                f"Pruned: checked {report.prune_checked} local visitors missing from the "
                f"listing; {report.pruned} {verb} the mirror."
            )
        if report.usage is not None:
            self.stdout.write("Stored a usage snapshot.")
        elif report.usage_skipped:
            self.stdout.write(f"No usage snapshot: {report.usage_skipped}.")
