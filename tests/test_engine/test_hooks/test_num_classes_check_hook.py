# Copyright (c) mmieee contributors.
from types import SimpleNamespace

import pytest
from mmengine.logging import MMLogger

from mmieee.engine.hooks import NumClassesCheckHook


def _runner(num_classes, num_ids):
    dataset = SimpleNamespace(metainfo=dict(num_ids=num_ids))
    model = SimpleNamespace(head=SimpleNamespace(num_classes=num_classes))
    return SimpleNamespace(
        model=model, train_dataloader=SimpleNamespace(dataset=dataset))


def test_more_ids_than_classes_stops_with_the_fix():
    with pytest.raises(ValueError) as err:
        NumClassesCheckHook().before_train(_runner(171, 200))
    msg = str(err.value)
    assert '200 identities' in msg and 'num_classes is 171' in msg
    assert 'model.head.num_classes=200' in msg


def test_fewer_ids_warns(capsys):
    MMLogger.get_instance('mmieee_test_hook')
    NumClassesCheckHook().before_train(_runner(171, 150))
    out = capsys.readouterr()
    assert '21 classifier rows will never see a positive' in (out.out +
                                                              out.err)


def test_matching_or_unknown_counts_pass():
    NumClassesCheckHook().before_train(_runner(171, 171))
    NumClassesCheckHook().before_train(_runner(171, None))
    runner = _runner(171, 171)
    runner.model = SimpleNamespace()  # a model without a head
    NumClassesCheckHook().before_train(runner)
