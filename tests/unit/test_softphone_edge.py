"""Where the browser softphone registers: Twilio, or the local carrier emulator."""

from __future__ import annotations

import pytest

from chalicelib.routing.softphone import carrier_edge


@pytest.mark.parametrize("api_base", [None, "", "https://api.twilio.com",
                                      "https://api.dublin.ie1.twilio.com/"])
def test_a_stage_that_talks_to_twilio_registers_with_twilio(api_base):
    assert carrier_edge(api_base) == {"edge": "twilio"}


@pytest.mark.parametrize(("api_base", "url"), [
    ("http://127.0.0.1:8100", "http://127.0.0.1:8100"),
    ("http://localhost:8100/", "http://localhost:8100"),
    ("http://carrier.example.net/twilio.com", "http://carrier.example.net/twilio.com"),
    ("http://nottwilio.com:8100", "http://nottwilio.com:8100"),
])
def test_any_other_api_base_is_the_emulator_the_browser_talks_to(api_base, url):
    assert carrier_edge(api_base) == {"edge": "emulator", "emulator_url": url}
