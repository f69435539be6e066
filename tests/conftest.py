# The pytest plugin we ship for our users; our own suite uses it exactly as theirs would.
pytest_plugins = ["django_upscope.testing.pytest_plugin"]
