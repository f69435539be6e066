"""django_upscope.mirror.search.parse: a query as Upscope's tokens and free text."""

from __future__ import annotations

import pytest

from django_upscope.mirror.search import Token, parse, token_of


@pytest.mark.parametrize(
    ("word", "kind", "value"),
    [
        ("online", "online", ""),
        ("Online", "online", ""),
        ("-online", "offline", ""),
        ("#vip", "tag", "#vip"),
        ("ip:1.2.3.4", "ip", "1.2.3.4"),
        ("IP:1.2.3.4", "ip", "1.2.3.4"),
        ("id:user-7", "id", "user-7"),
        ("0042", "lookup_code", "0042"),
        ("ada@example.com", "email", "ada@example.com"),
        ("integration_id:intercom:42", "integration_id", "intercom:42"),
        ("integration_id:zendesk:a:b", "integration_id", "zendesk:a:b"),
        ("ada", "text", "ada"),
        # Not quite a token: free text.
        ("12345", "text", "12345"),
        ("123", "text", "123"),
        ("ip:", "text", "ip:"),
        ("id:", "text", "id:"),
        ("#", "text", "#"),
        ("integration_id:ab:1", "text", "integration_id:ab:1"),
        ("integration_id:intercom", "text", "integration_id:intercom"),
        ("ada@example", "text", "ada@example"),
        ("offline", "text", "offline"),
    ],
)
def test_each_word(word, kind, value):
    assert token_of(word) == Token(kind, value)


def test_a_query_splits_into_tokens_and_free_text_in_order():
    parsed = parse('online ada #vip "Ada Lovelace" 1234 lovelace')
    assert parsed.tokens == (
        Token("online", ""),
        Token("tag", "#vip"),
        Token("lookup_code", "1234"),
    )
    assert parsed.words == ("ada", "Ada Lovelace", "lovelace")
    assert parsed.free_text() == 'ada "Ada Lovelace" lovelace'


def test_a_quoted_token_is_free_text():
    parsed = parse("\"#vip\" 'online'")
    assert parsed.tokens == ()
    assert parsed.words == ("#vip", "online")


@pytest.mark.parametrize("query", [None, "", "   "])
def test_no_query_has_neither(query):
    parsed = parse(query)
    assert (parsed.tokens, parsed.words, parsed.free_text()) == ((), (), "")
