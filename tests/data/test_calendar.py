from datetime import date

import pytest

from valuemodel.data.calendar import latest_session, sessions
from valuemodel.errors import InputError


def test_shanghai_trading_days_of_2024_and_the_national_day_week():
    assert len(sessions("XSHG", date(2024, 1, 1), date(2024, 12, 31))) == 242
    assert latest_session("XSHG", date(2024, 10, 7)) == date(2024, 9, 30)  # holiday week
    assert latest_session("XSHG", date(2024, 6, 30)) == date(2024, 6, 28)  # a Sunday


def test_outside_the_recorded_years_every_weekday_is_a_trading_day():
    assert latest_session("XSHG", date(1985, 3, 3)) == date(1985, 3, 1)
    assert latest_session("XSHG", date(2040, 1, 1)) == date(2039, 12, 30)


def test_an_unknown_calendar_is_an_input_error():
    with pytest.raises(InputError, match="'NOPE' is not an exchange_calendars name"):
        latest_session("NOPE", date(2024, 6, 30))
