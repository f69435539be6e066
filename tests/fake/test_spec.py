"""The fake's statement of Upscope's documents and the product's, written apart, agree.

Neither is derived from the other (``django_upscope.fake.spec`` says why), so this
comparison can fail: when it does, read docs/upscope-api.md, "Watch URLs", to see which
of the two is wrong.
"""

from __future__ import annotations

from django_upscope import vocabulary
from django_upscope.fake import spec


def test_permission_keys_and_defaults_agree():
    assert set(spec.PERMISSION_KEYS) == set(vocabulary.PERMISSION_KEYS)
    assert spec.DEFAULT_PERMISSIONS == vocabulary.PERMISSION_DEFAULTS


def test_only_the_console_is_off_by_default():
    assert [key for key, granted in spec.DEFAULT_PERMISSIONS.items() if not granted] == [
        "allow_console"
    ]
    assert set(spec.DEFAULT_PERMISSIONS) == set(spec.PERMISSION_KEYS)


def test_branding_keys_agree():
    assert set(spec.BRANDING_KEYS) == set(vocabulary.BRANDING_KEYS)


def test_authentication_codes_agree():
    assert set(spec.AUTHENTICATION_ERROR_CODES) == set(vocabulary.AUTHENTICATION_CODES)
