"""The shared number formatting: virtual times for people, settings for replay scripts."""

from __future__ import annotations

import pytest

from raftlab.formatting import format_ms, plain_number


@pytest.mark.parametrize("t, text", [(0, "0"), (0.0, "0"), (-0.0, "0"), (1000.0, "1000"),
                                     (1025.483, "1025.483"), (12.5, "12.5"), (0.001, "0.001"),
                                     (-0.0001, "0")])
def test_format_ms(t, text):
    assert format_ms(t) == text


def test_plain_number_keeps_the_value_and_drops_a_needless_point():
    assert repr(plain_number(300.0)) == "300" and plain_number(300.0) == 300.0
    assert repr(plain_number(2.5)) == "2.5"
    assert plain_number([150.0, 300]) == (150, 300)
    assert repr(plain_number((1.0, (2.0, 3.5)))) == "(1, (2, 3.5))"
    assert plain_number(True) is True and plain_number("x") == "x"
