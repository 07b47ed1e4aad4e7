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


def test_camera_ids_beyond_the_embedding_table_stop_with_the_fix():
    """A ViT backbone with a camera embedding of 4 rows and a training set
    whose cameras go up to id 7 (RGBNT100's eight cameras)."""
    runner = _runner(171, 171)
    runner.model.backbone_needs_camids = True
    runner.model.backbone = SimpleNamespace(num_cameras=4)
    runner.train_dataloader.dataset.data_list = [
        dict(camid=c) for c in (0, 3, 7, 2)]
    with pytest.raises(ValueError) as err:
        NumClassesCheckHook().before_train(runner)
    msg = str(err.value)
    assert 'camera ids up to 7' in msg and 'has 4 rows' in msg
    assert 'model.backbone.backbone.num_cameras=8' in msg
    runner.model.backbone.num_cameras = 8  # ids 0..7 fit
    NumClassesCheckHook().before_train(runner)
    runner.model.backbone_needs_camids = False  # no table: not compared
    runner.model.backbone.num_cameras = 0
    NumClassesCheckHook().before_train(runner)
