"""bot.safety: the order of a guarded reply and the resources per category and locale."""

import pytest

from bot.content import RISK_PRIORITY, available_locales, load_directory
from bot.safety import (
    Disclaimers, ReplyContext, ResponseTraits, guard_text, order_by_urgency, render_service,
)

DISCLAIMERS = Disclaimers(full="FULL: this is not medical advice.", short="Short: not medical advice.")
US = load_directory("us")


def guarded(text="The answer.", traits=ResponseTraits(), **context):
    return guard_text(text, traits, ReplyContext(locale="us", **context), US, DISCLAIMERS)


def test_plain_answer_gets_the_short_disclaimer_after_the_text():
    assert guarded() == "The answer.\n\nShort: not medical advice."


def test_first_reply_of_a_conversation_gets_the_full_disclaimer_instead():
    reply = guarded(opens_conversation=True)
    assert reply.endswith("FULL: this is not medical advice.")
    assert "Short:" not in reply


def test_conversational_response_gets_no_short_disclaimer_but_first_reply_still_full():
    chat = ResponseTraits(conversational=True)
    assert guarded("Hi.", chat) == "Hi."
    assert guarded("Hi.", chat, opens_conversation=True).endswith(DISCLAIMERS.full)


def test_emergency_resources_open_the_reply_before_the_answer_and_disclaimer():
    reply = guarded(risk_categories=("emergency",))
    assert reply.index("911") < reply.index("The answer.") < reply.index("not medical advice")
    assert "1-800-222-1222" in reply


def test_emergency_comes_before_every_other_category_whatever_order_they_were_found_in():
    reply = guarded(risk_categories=order_by_urgency(["addiction", "mixing", "emergency"]))
    assert reply.index("911") < reply.index("Poison Help") < reply.index("SAMHSA")


@pytest.mark.parametrize("locale", available_locales())
@pytest.mark.parametrize("category", RISK_PRIORITY)
def test_every_category_has_resources_in_every_locale(locale, category):
    directory = load_directory(locale)
    reply = guard_text("", ResponseTraits(), ReplyContext(locale=locale, risk_categories=(category,)),
                       directory, DISCLAIMERS)
    assert directory.categories[category].intro in reply
    assert reply.count("•") >= 1


def test_required_us_numbers_per_category():
    def block(category):
        return guarded("", risk_categories=(category,))
    assert "911" in block("emergency") and "1-800-222-1222" in block("emergency")
    assert "988" in block("self_harm") and "911" in block("self_harm")
    assert "1-800-662-4357" in block("addiction") and "findtreatment.gov" in block("addiction")
    assert "1-800-222-1222" in block("mixing") and "911" in block("mixing")


def test_uk_locale_uses_uk_numbers_only():
    uk = load_directory("uk")
    reply = guard_text("", ResponseTraits(),
                       ReplyContext(locale="uk", risk_categories=("emergency", "self_harm", "addiction")),
                       uk, DISCLAIMERS)
    for number in ("999", "116 123", "0300 123 6600"):
        assert number in reply
    assert "911" not in reply and "988" not in reply


def test_a_service_is_listed_once_even_when_two_categories_name_it():
    reply = guarded(risk_categories=("emergency", "mixing"))
    assert reply.count("Poison Help:") == 1


def test_offered_resources_follow_the_text_and_skip_those_already_shown():
    traits = ResponseTraits(offer_resources=("addiction",))
    reply = guarded("About dependence.", traits)
    assert reply.index("About dependence.") < reply.index("1-800-662-4357")
    both = guarded("About dependence.", traits, risk_categories=("addiction",))
    assert both.count("1-800-662-4357") == 1


def test_resources_only_open_the_first_message_of_a_reply():
    assert "911" not in guarded(risk_categories=("emergency",), opens_reply=False)


def test_unknown_categories_are_ignored_not_crashed_on():
    assert order_by_urgency(["made_up", "self_harm"]) == ("self_harm",)


def test_render_service_lists_every_way_to_reach_it():
    line = render_service(US.services["lifeline_988"])
    assert line.startswith("• 988") and "call 988" in line and "text 988" in line
