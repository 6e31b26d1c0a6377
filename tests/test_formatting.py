"""raftlab.formatting: times, numbers and table cells read the same wherever they are shown."""

from __future__ import annotations

import pytest

from raftlab.formatting import cell_text, format_ms, plain_number, text_table


@pytest.mark.parametrize("t,text", [
    (0, "0"), (0.0, "0"), (-0.0, "0"), (1000.0, "1000"), (1025.483, "1025.483"),
    (1025.48, "1025.48"), (312.5, "312.5"), (0.001, "0.001"), (0.0004, "0"),
    (1_234_567.0, "1234567"), (61025.483, "61025.483"), (7, "7"),
])
def test_format_ms(t, text):
    assert format_ms(t) == text


def test_format_ms_is_the_panels_function():
    from raftlab.status import format_ms as panel_format_ms
    for t in (0, 0.5, 999.9995, 1000.0, 1025.483, 3e6, 123456.789):
        assert format_ms(t) == panel_format_ms(t)


@pytest.mark.parametrize("x,want", [
    (300.0, 300), (300.5, 300.5), (7, 7), (-2.0, -2), (True, True), ("300.0", "300.0"),
    (None, None), (float("inf"), float("inf")),
])
def test_plain_number(x, want):
    got = plain_number(x)
    assert got == want and type(got) is type(want)


def test_plain_number_is_the_recorders_function():
    from raftlab.recording import plain_number as recorder_plain_number
    for x in (300.0, 300.25, 5, "x", None, (1.0, 2.0)):
        assert plain_number(x) == recorder_plain_number(x)


def test_cell_text():
    assert cell_text(378.66) == "378.7"
    assert cell_text(2.0) == "2.0"
    assert cell_text((0, 2)) == "0,2"
    assert cell_text(()) == "-"
    assert cell_text(None) == "-"
    assert cell_text(3) == "3"
    assert cell_text("won") == "won"


def test_text_table_right_aligns_columns():
    text = text_table(["term", "outcome"], [["1", "won"], ["12", "no majority"]])
    assert text.splitlines() == ["term      outcome",
                                 "   1          won",
                                 "  12  no majority"]
    assert text_table(["a", "bb"], []) == "a  bb"


def test_plain_number_keeps_the_value_and_drops_a_needless_point():
    assert repr(plain_number(300.0)) == "300" and plain_number(300.0) == 300.0
    assert repr(plain_number(2.5)) == "2.5"
    assert plain_number([150.0, 300]) == (150, 300)
    assert repr(plain_number((1.0, (2.0, 3.5)))) == "(1, (2, 3.5))"
    assert plain_number(True) is True and plain_number("x") == "x"
