"""uniqueId derivation, adapters, the VISITOR_IDENTITY hook and Upscope's identity rules."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from django_upscope.exceptions import UpscopeConfigurationError
from django_upscope.identity import (
    RelatedUserAdapter,
    clean_identity,
    default_identity,
    derive_unique_id,
    unique_id_for,
    visitor_identity,
)

from ..helpers import make_user

pytestmark = pytest.mark.django_db


def request_for(user):
    request = RequestFactory().get("/account/")
    request.user = user
    return request


@pytest.fixture
def customer():
    return make_user(
        "carla", staff=False, first_name="Carla", last_name="Customer", email="carla@example.com"
    )


# -- uniqueId ---------------------------------------------------------------------------


def test_unique_id_is_a_stable_hmac_not_the_raw_pk(customer):
    unique_id = unique_id_for(customer)
    assert unique_id == unique_id_for(customer)
    assert len(unique_id) == 32 and int(unique_id, 16) >= 0
    assert unique_id != str(customer.pk)
    assert str(customer.pk) != unique_id.strip("0")
    assert derive_unique_id(customer.pk + 1) != unique_id


def test_unique_id_differs_per_secret_key(settings, customer):
    first = unique_id_for(customer)
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    second = unique_id_for(customer)
    assert first != second and len(second) == 32


def test_raw_pk_by_setting(settings, customer):
    settings.UPSCOPE = {**settings.UPSCOPE, "VISITOR_UNIQUE_ID": "pk"}
    assert unique_id_for(customer) == str(customer.pk)


def test_unknown_mode_is_a_configuration_error(settings, customer):
    settings.UPSCOPE = {**settings.UPSCOPE, "VISITOR_UNIQUE_ID": "email"}
    with pytest.raises(UpscopeConfigurationError) as caught:
        unique_id_for(customer)
    assert caught.value.code == "invalid_visitor_unique_id"


def test_an_adapter_maps_a_customer_to_its_users_identity(customer):
    shop_customer = SimpleNamespace(user=customer, __str__=lambda self: "x")
    adapter = RelatedUserAdapter("user")
    assert unique_id_for(shop_customer, adapter) == unique_id_for(customer)
    assert adapter.display_name(shop_customer) == "Carla Customer"
    assert unique_id_for(SimpleNamespace(user=None), adapter) is None


def test_unsaved_user_has_no_unique_id():
    assert unique_id_for(SimpleNamespace(pk=None)) is None


# -- the default identity and the hook ---------------------------------------------------


def test_default_identity_anonymous_is_none():
    assert default_identity(request_for(AnonymousUser())) is None


def test_default_identity_has_the_name_and_no_email(customer):
    identity = default_identity(request_for(customer))
    assert identity == {"uniqueId": unique_id_for(customer), "identities": ["Carla Customer"]}


def test_default_identity_adds_the_email_only_when_configured(settings, customer):
    settings.UPSCOPE = {**settings.UPSCOPE, "VISITOR_EMAIL": True}
    identity = default_identity(request_for(customer))
    assert identity["identities"] == ["Carla Customer", "carla@example.com"]


def test_username_when_there_is_no_full_name():
    user = make_user("nameless", staff=False)
    assert default_identity(request_for(user))["identities"] == ["nameless"]


def tagging_hook(request):
    return {**default_identity(request), "tags": ["#VIP", "#not a tag"], "colour": "blue"}


def test_hook_by_dotted_path_is_cleaned(settings, customer, caplog):
    settings.UPSCOPE = {**settings.UPSCOPE, "VISITOR_IDENTITY": f"{__name__}.tagging_hook"}
    with caplog.at_level(logging.WARNING, logger="django_upscope.identity"):
        identity = visitor_identity(request_for(customer))
    assert identity == {
        "uniqueId": unique_id_for(customer),
        "identities": ["Carla Customer"],
        "tags": ["#VIP"],
    }
    assert "tags[1]" in caplog.text and "colour" in caplog.text


def test_hook_callable_returning_none_means_anonymous(settings, customer):
    settings.UPSCOPE = {**settings.UPSCOPE, "VISITOR_IDENTITY": lambda request: None}
    assert visitor_identity(request_for(customer)) is None


def test_hook_returning_something_else_is_a_configuration_error(settings, customer):
    settings.UPSCOPE = {**settings.UPSCOPE, "VISITOR_IDENTITY": lambda request: ["x"]}
    with pytest.raises(UpscopeConfigurationError):
        visitor_identity(request_for(customer))


# -- Upscope's rules -------------------------------------------------------------------------


def test_valid_values_pass_untouched():
    identity = {
        "uniqueId": "abc",
        "identities": ["Ada", "ada@example.com"],
        "tags": ["#VIP", "#early-adopter"],
        "integrationIds": ["intercom:123", "zendesk:a:b"],
    }
    assert clean_identity(identity) == identity


def test_values_breaking_a_rule_are_dropped_with_a_warning(caplog):
    identity = {
        "uniqueId": "",
        "identities": ["Ada", 42, ""],
        "tags": ["VIP", "#OK", "#with space", "#1"],
        "integrationIds": ["ic:1", "intercom:", "intercom:9", "Intercom:1"],
    }
    with caplog.at_level(logging.WARNING, logger="django_upscope.identity"):
        cleaned = clean_identity(identity)
    assert cleaned == {"identities": ["Ada"], "tags": ["#OK"], "integrationIds": ["intercom:9"]}
    for dropped in ("uniqueId", "identities[1]", "identities[2]", "tags[0]", "tags[2]", "tags[3]"):
        assert f"dropped {dropped} " in caplog.text
    for dropped in ("integrationIds[0]", "integrationIds[1]", "integrationIds[3]"):
        assert f"dropped {dropped} " in caplog.text
    assert "integrationIds[2]" not in caplog.text


def test_the_log_never_holds_an_identity_value(caplog):
    with caplog.at_level(logging.WARNING, logger="django_upscope.identity"):
        clean_identity({"identities": "carla@example.com", "uniqueId": ["carla@example.com"]})
    assert "dropped identities (not a list)" in caplog.text
    assert "carla@example.com" not in caplog.text


def test_null_clears_and_absent_leaves():
    assert clean_identity({"tags": None, "uniqueId": None}) == {"tags": None, "uniqueId": None}
    assert clean_identity({"identities": ["Ada"]}) == {"identities": ["Ada"]}


def test_an_integer_unique_id_becomes_a_string_and_a_bool_is_dropped():
    assert clean_identity({"uniqueId": 42}) == {"uniqueId": "42"}
    assert clean_identity({"uniqueId": True}) == {}
    assert clean_identity({"tags": "#VIP"}) == {}
