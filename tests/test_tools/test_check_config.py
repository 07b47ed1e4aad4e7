# Copyright (c) mmieee contributors.
"""tools/misc/check_config.py --forward runs the first training step: a
config that would die at the first iteration is refused naming the key."""
import runpy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def check_main():
    return runpy.run_path(str(REPO / 'tools' / 'misc' / 'check_config.py'))[
        'main']


def test_forward_runs_a_training_step(check_main, tiny_config, capsys):
    out = check_main([str(tiny_config), '--forward'])
    printed = capsys.readouterr().out
    assert set(out['losses']) >= {'loss', 'loss_ce', 'loss_3m'}
    assert 'train step: loss ' in printed and 'backward OK' in printed
    assert printed.strip().endswith(str(tiny_config))


def test_head_of_another_size_is_named(check_main, tiny_config, capsys):
    """What used to pass the check and die at the first step in
    torch.baddbmm is an Error naming both numbers."""
    with pytest.raises(SystemExit) as exit_info:
        check_main([str(tiny_config), '--forward', '--cfg-options',
                    'model.head.in_channels=24'])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('Error: the first training step')
    assert 'model.head.in_channels=24 but the neck gives 16' in err


def test_num_classes_below_the_training_ids_is_named(check_main,
                                                     tiny_config, capsys):
    with pytest.raises(SystemExit):
        check_main([str(tiny_config), '--cfg-options',
                    'model.head.num_classes=3'])
    err = capsys.readouterr().err
    assert 'has 6 identities but model.head.num_classes is 3' in err
    check_main([str(tiny_config), '--cfg-options',
                'model.head.num_classes=9'])
    assert 'warning: The training set (RGBNT201) has 6 identities but ' \
        'model.head.num_classes is 9' in capsys.readouterr().out
