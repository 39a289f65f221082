from datetime import date

import pytest

from valuemodel.data.calendar import latest_session, session_numbers, sessions, window_start
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


def test_the_last_n_sessions_reach_back_over_the_national_day_week():
    # the last 5 sessions up to 2024-10-08 are 09-25..09-27, 09-30 and 10-08
    assert window_start("XSHG", date(2024, 10, 8), 5) == date(2024, 9, 24)
    # a holiday belongs to the session before it: at 10-06 the last 2 are 09-27 and 09-30
    assert window_start("XSHG", date(2024, 10, 6), 2) == date(2024, 9, 26)


def test_session_numbers_count_trading_days_and_stand_still_over_holidays():
    first = date(2024, 9, 27)
    days = [date(2024, 9, 27), date(2024, 9, 30), date(2024, 10, 5), date(2024, 10, 8)]
    assert list(session_numbers("XSHG", first, days)) == [1, 2, 2, 3]
    assert len(session_numbers("XSHG", first, [])) == 0
