# Copyright (c) mmieee contributors.
import pytest

from mmieee.models.necks import ATMoE
from mmieee.utils.arg_checks import check_int


@pytest.mark.parametrize('value, minimum', [(0, 1), (-1, 0), (True, 0),
                                            (2.0, 1), ('3', 1), (None, 1),
                                            (1, 2)])
def test_refused_values_are_named(value, minimum):
    with pytest.raises(ValueError) as err:
        check_int('Owner', 'size', value, minimum)
    assert str(err.value) == (f'Owner: size must be an integer >= {minimum}, '
                              f'got {value!r}')


def test_accepted_values_are_returned():
    assert check_int('Owner', 'size', 0, 0) == 0
    assert check_int('Owner', 'size', 7) == 7


def test_a_module_names_itself_and_the_argument():
    with pytest.raises(ValueError,
                       match=r'^ATMoE: num_heads must be an integer >= 1, '
                       r'got True$'):
        ATMoE(embed_dims=8, num_heads=True)
