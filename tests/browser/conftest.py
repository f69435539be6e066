"""Harness of the real-browser tests: the example project served for real, and Chromium.

- ``demo_server`` (session): the example project on the embedded fake Upscope, prepared the way
  ``make demo`` prepares it (migrate, ``upscope_fake_seed``, ``upscope_sync``, ``demo_setup``)
  on a throwaway SQLite database, and served by ``manage.py runserver`` in a subprocess.
- ``chromium`` (session): Debian's Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``) driven by
  Playwright through ``executable_path``. Nothing ever downloads a browser; when the binary is
  missing the tests FAIL saying so (``make test-browser`` installs it first).
- ``page`` (per test): a fresh browser context (no cookies) and page whose console errors are
  collected (``page.console_errors``) and which is screenshotted on failure.
- ``sibling_server(demo_server, settings_module, name)``: a second server on the demo's database
  under another settings module (an on-premise server, an odd watch host).
- ``shoot(page, name)``: a screenshot into ``artifacts/browser/`` (``$ARTIFACTS/browser``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("ARTIFACTS", REPO / "artifacts"))
if not ARTIFACTS.is_absolute():
    ARTIFACTS = REPO / ARTIFACTS
SCREENSHOTS = ARTIFACTS / "browser"
STARTUP_TIMEOUT = 60  # seconds for the server to answer its first request
COMMAND_TIMEOUT = 180  # seconds for one manage.py command
# The demo users created by example_project's demo_setup command.
PASSWORDS = {"admin": "admin", "agent": "agent", "visitor": "visitor"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class DemoServer:
    """The example project served on ``base_url``, with its fake Upscope under ``/__upscope__``."""

    base_url: str
    env: dict[str, str]
    root: Path
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def fake_url(self) -> str:
        return f"{self.base_url}/__upscope__"

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str) -> str:
        """Run ``manage.py <args>`` against this server's database; its stdout, or fail."""
        result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(REPO / "manage.py"), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"manage.py {' '.join(args)} failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}\n"
                f"server log ({self.log_path}):\n{_tail(self.log_path)}",
                pytrace=False,
            )
        return result.stdout

    def query(self, code: str) -> Any:
        """Run Python in ``manage.py shell`` and return what it printed as JSON on its last line."""
        out = self.manage("shell", "--no-imports", "-c", code)
        return json.loads(out.strip().splitlines()[-1])

    def fake_requests(self, endpoint: str) -> list[dict[str, Any]]:
        """What the fake Upscope received on ``endpoint`` (method, path, JSON body), in order."""
        return self.query(
            "import json\n"
            "from django_upscope.fake import state\n"
            f"rows = state.received_requests({endpoint!r})\n"
            "print(json.dumps([{'method': r.method, 'path': r.path, 'json': r.json} "
            "for r in rows]))"
        )

    def start(self) -> None:
        host_port = self.base_url.removeprefix("http://")
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own manage.py
                [sys.executable, str(REPO / "manage.py"), "runserver", host_port, "--noreload"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Poll the login page until it answers; bounded, and failing if the server died."""
        assert self.process is not None
        probe = self.url("/admin/login/")
        attempts = int(STARTUP_TIMEOUT / 0.25)
        for _ in range(attempts):
            if self.process.poll() is not None:
                pytest.fail(
                    f"the example project's server exited with {self.process.returncode}:\n"
                    f"{_tail(self.log_path)}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(probe, timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                pytest.fail(f"{probe} answered {exc.code} at start-up", pytrace=False)
            except OSError:
                pass
            try:  # the bounded wait between two probes; returns early if the server dies
                self.process.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                pass
        pytest.fail(
            f"the example project's server did not answer {probe} within {STARTUP_TIMEOUT}s:\n"
            f"{_tail(self.log_path)}",
            pytrace=False,
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The example project on the fake, prepared as ``make demo`` does, served for real."""
    root = tmp_path_factory.mktemp("demo")
    base_url = f"http://127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "UPSCOPE_FAKE_URL": f"{base_url}/__upscope__",
        "DEBUG": "True",
        # Empty, so a developer's .env or shell cannot point the demo at a real Upscope.
        "UPSCOPE_API_KEY": "",
        "UPSCOPE_BASE_ENDPOINT": "",
        "PYTHONUNBUFFERED": "1",
    }
    server = DemoServer(base_url=base_url, env=env, root=root, log_path=root / "server.log")
    server.manage("migrate", "--no-input", "-v", "0")
    server.manage("upscope_fake_seed", "--visitors", "20", "--seed", "7", "--reset")
    try:
        server.start()
        # The fake answers over HTTP from the running server, so the mirror syncs from it.
        server.manage("upscope_sync")
        server.manage("demo_setup", "--base-url", base_url)
        yield server
    finally:
        server.stop()


@contextmanager
def sibling_server(
    demo_server: DemoServer, settings_module: str, name: str
) -> Iterator[DemoServer]:
    """A second server on the demo's database and fake data, under ``settings_module``."""
    base_url = f"http://127.0.0.1:{_free_port()}"
    env = {
        **demo_server.env,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "UPSCOPE_FAKE_URL": f"{base_url}/__upscope__",
    }
    server = DemoServer(
        base_url=base_url, env=env, root=demo_server.root, log_path=demo_server.root / f"{name}.log"
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def online_visitors(demo_server: DemoServer) -> list[dict[str, str]]:
    """Online visitors of the mirror (short_id, display_name), at least three, stable order."""
    visitors = demo_server.query(
        "import json\n"
        "from django_upscope.models import Visitor\n"
        "rows = Visitor.objects.filter(is_online=True).exclude(display_name='')"
        ".order_by('short_id').values('short_id', 'display_name')\n"
        "print(json.dumps(list(rows)))"
    )
    assert len(visitors) >= 3, f"the seeded demo needs 3 online visitors, has {visitors}"
    return visitors


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; a missing binary is a failure, never a skip."""
    path = shutil.which(CHROMIUM) if not os.path.isabs(CHROMIUM) else CHROMIUM
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests use Debian's Chromium and never "
            "download a browser: install it ('sudo apt-get install chromium', which "
            "'make test-browser' does for you) or set CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


WATCH_TOKEN_RE = re.compile(r"(/__upscope__/watch/)[^/?#\s'\"]+")


def redact(text: str) -> str:
    """Hide watch tokens (bearer secrets, even the fake's) in what a report prints."""
    return WATCH_TOKEN_RE.sub(r"\1<token>", text)


@dataclass(frozen=True)
class ConsoleError:
    text: str
    url: str

    def __str__(self) -> str:
        return redact(f"{self.text} [{self.url or 'no url'}]")


@dataclass
class ConsoleWatch:
    """Errors written to the console by the pages of our origin, and uncaught exceptions.

    One benign error is left out, precisely: ``/favicon.ico`` answering 404. Chromium asks
    every site for it and neither the admin nor the example project serves one; it is not an
    error of any page we test.
    """

    origin: str
    errors: list[ConsoleError] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url") or ""
            self.errors.append(ConsoleError(message.text, url))

    def on_page_error(self, error: Any) -> None:
        self.errors.append(ConsoleError(f"uncaught exception: {error}", ""))

    def _benign(self, error: ConsoleError) -> bool:
        return error.url == f"{self.origin}/favicon.ico" and "status of 404" in error.text

    def ours(self) -> list[str]:
        """Errors of our own origin's pages (and frames refused by it), readable and redacted."""
        return [
            str(error)
            for error in self.errors
            if not self._benign(error)
            and (
                not error.url
                or error.url.startswith(self.origin + "/")
                or error.url.startswith("chrome-error://")
            )
        ]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shoot(page, "name")`` saves ``artifacts/browser/<test>-NN-name.png``; returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = _slug(request.node.name)
    for old in SCREENSHOTS.glob(f"{prefix}-*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{prefix}-{next(counter):02d}-{_slug(name)}.png"
        page.screenshot(path=str(path))
        return path

    return take


@pytest.fixture
def page(
    chromium: Any, demo_server: DemoServer, request: pytest.FixtureRequest, shoot: Callable
) -> Iterator[Any]:
    """A page in a fresh context (no cookies), 1280x800, its console errors collected."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    watch = ConsoleWatch(origin=demo_server.base_url)
    new_page.on("console", watch.on_console)
    new_page.on("pageerror", watch.on_page_error)
    new_page.console_watch = watch
    try:
        yield new_page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed and not new_page.is_closed():
            try:
                shoot(new_page, "FAILED")
            except Exception as exc:  # a failed screenshot must not hide the test's failure
                print(f"could not take the failure screenshot: {exc}")
        context.close()


def log_in(page: Any, server: DemoServer, username: str, next_path: str = "/admin/") -> None:
    """Log in through the admin login form, as a person would."""
    page.goto(server.url(f"/admin/login/?next={next_path}"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORDS[username])
    page.locator("#login-form [type=submit]").click()


def session_cookie(server: DemoServer, username: str) -> dict[str, str]:
    """A logged-in session for ``username`` without a login form (non-staff users have none:
    the admin login refuses them and the example project has no other login page)."""
    key = server.query(
        "import json\n"
        "from importlib import import_module\n"
        "from django.conf import settings\n"
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
        "from django.contrib.auth import get_user_model\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        "store = import_module(settings.SESSION_ENGINE).SessionStore()\n"
        "store[SESSION_KEY] = str(user.pk)\n"
        "store[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "store[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "store.create()\n"
        "print(json.dumps([settings.SESSION_COOKIE_NAME, store.session_key]))"
    )
    name, value = key
    return {"name": name, "value": value, "url": server.base_url}
