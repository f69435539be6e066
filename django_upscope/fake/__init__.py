"""An embedded, stateful fake of Upscope's REST API (cloud v1.1 and on-premise).

Add ``"django_upscope.fake"`` to ``INSTALLED_APPS`` and mount it with
``path("__upscope__/", include("django_upscope.fake.urls"))``. It answers only
when ``upscope_settings.fake_enabled`` (``DEBUG``, or ``UPSCOPE["FAKE_ENABLED"]``).
The Python API for tests and seeding is :mod:`django_upscope.fake.state`.
"""
