# Copyright (c) mmieee contributors.
"""The one table formatter (mmieee/utils/text_table.py): alignment, widths,
the rule, the Markdown form, and refusals."""
import pytest

from mmieee.utils.text_table import format_row, format_table

HEADER = ('case', 'it/s', 'peak')
ROWS = [('default', '2.000', '512 MB'), ('channels-last', '10.5', '1 MB')]


def test_plain_columns_are_padded_to_the_longest_cell():
    text = format_table(HEADER, ROWS, align='lrr', rule=True, indent=2)
    assert text.splitlines() == [
        '  case            it/s    peak',
        '  -------------  -----  ------',
        '  default        2.000  512 MB',
        '  channels-last   10.5    1 MB',
    ]


def test_plain_left_aligned_lines_have_no_trailing_spaces():
    lines = format_table(('a', 'bb'), [('xxxx', ''), ('y', None)]).split('\n')
    assert lines == ['a     bb', 'xxxx', 'y']


def test_rows_printed_one_by_one_line_up_with_the_table():
    """format_row with the widths of the final table gives its lines."""
    widths = [13, 5, 6]
    table = format_table(HEADER, ROWS, 'lrr', widths=widths).splitlines()
    assert [format_row(r, widths, 'lrr') for r in ROWS] == table[1:]
    assert format_row(HEADER, widths, 'lrr') == table[0]


def test_markdown():
    text = format_table(HEADER, [('a', '1', ''), ('', '2', 'x')],
                        align='lrl', style='markdown')
    assert text.splitlines() == [
        '| case | it/s | peak |',
        '| --- | ---: | --- |',
        '| a | 1 | |',
        '| | 2 | x |',
    ]


def test_refusals_name_the_row():
    with pytest.raises(ValueError, match=r"a row of 2 cells under a header "
                       r"of 3 columns: \['a', 'b'\]"):
        format_table(HEADER, [('a', 'b')])
    with pytest.raises(ValueError, match="style must be 'plain' or "
                       "'markdown', got 'html'"):
        format_table(HEADER, ROWS, style='html')
    with pytest.raises(ValueError, match='a row of 1 cells for 2 columns'):
        format_row(['a'], [1, 2])
