"""``manage.py upscope_fake_seed --visitors N --seed S [--reset]``: fill the fake Upscope."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ....conf import upscope_settings
from ... import state
from ...models import FakeVisitor
from ...seeding import FIXED_ANCHOR


class Command(BaseCommand):
    help = (
        "Create realistic visitors (with past sessions, agents and history) in the embedded "
        "fake Upscope. The same --seed gives the same visitors."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--visitors", type=int, default=200, help="How many (default 200).")
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        parser.add_argument(
            "--sessions",
            type=int,
            default=None,
            help="Past sessions per visitor (default: 0-5 at random).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete all of the fake's state first."
        )
        parser.add_argument(
            "--anchor",
            choices=("now", "fixed"),
            default="now",
            help="Place timestamps relative to now (default: the demo looks live) or to a "
            "fixed moment (the same seed then gives byte-identical payloads).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not upscope_settings.fake_enabled:
            raise CommandError(
                "The embedded fake Upscope is not enabled: it runs with DEBUG = True or "
                "UPSCOPE['FAKE_ENABLED'] = True."
            )
        count = options["visitors"]
        if count < 0:
            raise CommandError("--visitors must be 0 or more.")
        if options["sessions"] is not None and options["sessions"] < 0:
            raise CommandError("--sessions must be 0 or more.")
        if options["reset"]:
            state.reset()
        anchor: dt.datetime = timezone.now() if options["anchor"] == "now" else FIXED_ANCHOR
        short_ids = state.seed(
            visitors=count, seed=options["seed"], anchor=anchor, sessions=options["sessions"]
        )
        total = FakeVisitor.objects.count()
        online = FakeVisitor.objects.filter(is_online=True).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(short_ids)} fake visitors with seed {options['seed']}; the fake "
                f"now has {total} visitors, {online} online."
            )
        )
