"""Django settings for the benchmarks' servers: the test settings, made like a deployment.

Not a benchmark (``scripts/bench.sh`` runs only ``bench/bench_*.py``). The bench scripts
put ``bench/`` and the repository root on ``PYTHONPATH`` and set ``DJANGO_SETTINGS_MODULE``
to ``_settings``; ``DATABASE_URL`` picks the database and ``BENCH_FAKE_URL`` the fake Upscope
the client talks to (``http://127.0.0.1:<port>/__upscope__``).
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, REST_FRAMEWORK

# A deployment keeps its database connections between requests.
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

UPSCOPE = {
    "API_KEY": "fake_bench_key",
    "API_URL": os.environ.get("BENCH_FAKE_URL", "http://127.0.0.1:1/__upscope__") + "/v1.1",
    "FAKE_ENABLED": True,
    # Every mint in the screen-share benchmark joins one visitor's session; the limit only
    # matters if a run is pointed at many visitors.
    "FAKE_SESSION_LIMIT": 1_000_000,
    "TIMEOUT": 30.0,
}

# The watch-URL throttle stays on (its cache lookups are part of the cost measured), at a
# rate a benchmark does not reach.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"upscope_watch_url": "1000000/min"},
}
