"""The payment reminders' texts and call prompts (chalicelib/templates/<language>/reminder_*):
the amount and due date in the customer's language, how to stop every text, and a voicemail
that is Regulation F's limited-content message (12 CFR 1006.2(j)): who is calling and a number
to call back, nothing about the account."""

from __future__ import annotations

import re
from datetime import date

import pytest

from chalicelib.prompts import render_prompt

ACCOUNT = {
    "company": "Acme Power", "holder": "Ada Lovelace", "amount_due": 98765, "currency": "USD",
    "due_date": date(2026, 11, 30), "callback_number": "+14155550100", "contact_name": "Sam Lee",
}


# The reminder texts are SMS campaign templates (templates/campaigns/reminder_due and
# reminder_overdue): tests/integration/test_reminder_batches.py renders them in both languages.


def test_the_call_greeting_speaks_the_amount_and_offers_pay_promise_and_agent():
    text, voice, _ = render_prompt("reminder_call_greeting", "en-US", **ACCOUNT)
    assert text == ("Hello Ada Lovelace, this is Acme Power calling about your account. "
                    "Your payment of 987 dollars and 65 cents is due on November 30, 2026. "
                    "To pay now, press 1. To promise a payment date, press 2. "
                    "To speak with an agent, press 0.")
    assert voice == "Polly.Joanna"
    text, voice, _ = render_prompt("reminder_call_greeting", "zh-CN",
                                   **{**ACCOUNT, "currency": "CNY", "overdue": True})
    assert text == ("Ada Lovelace，您好，这里是Acme Power，就您的账户给您来电。"
                    "您应于2026年11月30日缴纳的987元6角5分已逾期。"
                    "立即缴费请按1，约定缴费日期请按2，人工服务请按0。")
    assert voice == "Polly.Zhiyu"


# Anything that would tell whoever hears the tape there is a debt, or whose it is.
FORBIDDEN_WORDS = {
    "en-US": ["debt", "owe", "payment", "pay", "bill", "overdue", "due", "balance", "account",
              "collect", "amount", "dollar", "cent", "late", "past"],
    "zh-CN": ["欠", "账", "缴", "费", "逾期", "付", "还款", "余额", "金额", "催", "元", "到期",
              "户"],
}


@pytest.mark.parametrize("currency", ["USD", "CNY"])
@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
@pytest.mark.parametrize("contact_name", ["Sam Lee", None])
def test_the_voicemail_is_a_limited_content_message(language, currency, contact_name):
    # Given everything the account holds, as a careless caller would pass it
    text, _, _ = render_prompt("reminder_voicemail", language,
                               **{**ACCOUNT, "currency": currency, "contact_name": contact_name,
                                  "overdue": True})
    # It says who is calling and the number to call back, digit by digit
    assert "Acme Power" in text
    assert "4 1 5 5 5 5 0 1 0 0" in text
    # and nothing of the account: no amount in any form, no due date, not whose it is
    for trace in ("987", "98765", "65", "2026", "11月", "Nov", "30", "Ada", "Lovelace", "$",
                  "¥"):
        assert trace not in text, (trace, text)
    assert not re.search(r"\d{2,}", text), text  # only the number's single spaced digits
    said = text.replace("Acme Power", "")  # the business name is the caller's to choose
    for word in FORBIDDEN_WORDS[language]:
        # English by word start ("pay" in "payment"), Chinese by character
        pattern = rf"\b{word}" if language == "en-US" else re.escape(word)
        assert not re.search(pattern, said, re.IGNORECASE), (word, text)
    if contact_name:
        assert contact_name in text


def test_the_voicemail_without_a_number_still_asks_for_a_call_back():
    text, _, _ = render_prompt("reminder_voicemail", "en-US", company="Acme Power")
    assert text == "Hello, this is Acme Power. Please call us back. Thank you, goodbye."
    text, _, _ = render_prompt("reminder_voicemail", "zh-CN", company="Acme Power")
    assert text == "您好，这里是Acme Power。请回电。谢谢，再见。"
