# Copyright (c) mmieee contributors.
"""format_listing: how every error message names a list of items."""
from mmieee.utils.errors import MAX_LISTED, format_listing


def test_short_lists_are_written_out():
    assert format_listing([]) == ''
    assert format_listing(['a']) == 'a'
    assert format_listing(list('abcde')) == 'a, b, c, d, e'


def test_long_lists_name_the_first_and_count_the_rest():
    items = [f'k{i}' for i in range(12)]
    assert MAX_LISTED == 5
    assert format_listing(items) == 'k0, k1, k2, k3, k4, ... (7 more)'
    assert format_listing(items, 2) == 'k0, k1, ... (10 more)'
