"""``manage.py upscope_sync``: refresh the local mirror from Upscope."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from django_upscope import jobs, mirror
from django_upscope.exceptions import UpscopeError
from django_upscope.mirror.upsert import remove_invalid_visitors


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


BAR_WIDTH = 30


class Progress:
    """Progress of a sync: a bar redrawn in place on a terminal, plain lines otherwise
    (only for runs longer than one batch)."""

    def __init__(self, out: OutputWrapper, *, batch_size: int, enabled: bool) -> None:
        self.out = out
        self.batch_size = batch_size
        self.enabled = enabled
        self.tty = out.isatty()
        self.drawn = False

    def __call__(self, done: int, total: int, result: mirror.SyncResult) -> None:
        if not self.enabled or total <= self.batch_size:
            return
        if not self.tty:
            self.out.write(f"  {done}/{total} visitors  {result.summary()}")
            return
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.out.write(f"\r[{bar}] {done}/{total} visitors", ending="")
        self.out.flush()
        self.drawn = True

    def finish(self) -> None:
        """End the bar's line, so what follows starts on a line of its own."""
        if self.drawn:
            self.out.write("")
            self.drawn = False


class Command(BaseCommand):
    help = (
        "Refresh the local mirror from Upscope: list the visitors, fetch the details (with "
        "sessions) of those that are new, changed in the listing, or in session now or at "
        "the last sync (all of them with --full or --with-history), several at once "
        "(--concurrency), and upsert them in batches. Prints progress, a summary 'listed=N "
        "fetched=N created=N updated=N unchanged=N skipped=N failed=N requests=N "
        "elapsed=Ns' and a last line 'created=N updated=N unchanged=N failed=N skipped=N' "
        "(skipped: deleted in Upscope during the sync); exits non-zero on failure. Safe to "
        "re-run: unchanged visitors are neither fetched nor written."
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
            "the ones Upscope answers 404 for as removed upstream (removed_upstream_at); "
            "local visitors whose id is not a valid Upscope id are deleted from the mirror. "
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
            "--full",
            action="store_true",
            help="Fetch every listed visitor's details, changed or not.",
        )
        parser.add_argument(
            "--concurrency",
            type=_positive_int,
            default=None,
            metavar="N",
            help='Detail requests in flight at once (default UPSCOPE["SYNC_CONCURRENCY"], '
            "8; 1 fetches one after another).",
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
                query=options["search"],
                prune=options["prune"],
                batch_size=options["batch_size"],
                concurrency=options["concurrency"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verbosity = options["verbosity"]
        if options["prune"]:
            # Before the sync: a prune would ask Upscope about them, and it cannot be asked.
            invalid = remove_invalid_visitors()
            if invalid:
                self.stdout.write(
                    f"Removed {invalid} local visitors whose id is not a valid Upscope id."
                )
        progress = Progress(self.stdout, batch_size=options["batch_size"], enabled=verbosity >= 1)
        try:
            # Behind the same lease as the sync_mirror task: one sync at a time.
            report = jobs.run_sync(
                query=options["search"],
                with_history=options["with_history"],
                prune=options["prune"],
                delete_pruned=options["delete"],
                batch_size=options["batch_size"],
                usage=not options["no_usage"],
                progress=progress,
                full=options["full"],
                concurrency=options["concurrency"],
            )
        except UpscopeError as exc:
            raise CommandError(f"Upscope sync stopped: {exc.message} [{exc.code}]") from exc
        finally:
            progress.finish()
        if report is None:
            self.stdout.write("Another sync of the mirror is running; nothing to do.")
            return
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
        self.stdout.write(f"Summary: {report.summary()} (concurrency {report.concurrency})")
