# Copyright (c) mmieee contributors.
"""The files of a study (mmieee/utils/study_layout.py): where a run's
result lives, what counts as a result, and the atomic commit."""
import json

import pytest

from mmieee.utils import ConfigError
from mmieee.utils.study_layout import (PARTIAL_METRICS_FILE,
                                       commit_run_metrics, config_name,
                                       read_run_metrics, read_study, run_dir,
                                       seed_dirs, write_study)

GOOD = {'reid/mAP': 50.5, 'reid/R1': 60, 'reid/R5': 70.0, 'reid/R10': 80.0,
        'reid/mINP': 20.0}


def test_layout(tmp_path):
    assert config_name('configs/ieee/ieee_r18_demo.py') == 'ieee_r18_demo'
    assert run_dir('w', 'cfg', 3) == 'w/cfg/seed_3'
    for name in ('seed_2', 'seed_-1', 'seed_10', 'seed_x'):
        (tmp_path / name).mkdir()
    (tmp_path / 'seed_5').write_text('a file, not a run')
    assert seed_dirs(str(tmp_path)) == [-1, 2, 10]


def test_study_record_round_trip_and_refusals(tmp_path):
    assert read_study(str(tmp_path)) is None
    study = dict(configs={'a': 'configs/a.py'}, seeds=[0, 1],
                 cfg_options=['x=1'])
    write_study(str(tmp_path), study)
    assert read_study(str(tmp_path)) == study
    assert [p.name for p in tmp_path.iterdir()] == ['study.json']
    (tmp_path / 'study.json').write_text('{"configs": {}, "seeds": 0}')
    with pytest.raises(ConfigError, match='is not a study record'):
        read_study(str(tmp_path))


@pytest.mark.parametrize('content, message', [
    ('{"reid/mAP": 50', 'is not valid JSON'),
    (b'\xff\xfe', 'is not valid JSON'),
    ('null', 'holds NoneType, not the JSON object'),
    ('{"reid/mAP": 1}', 'has no reid/R1'),
    (json.dumps(dict(GOOD, **{'reid/mINP': float('nan')})),
     'reid/mINP is nan, not a finite number'),
    (json.dumps(dict(GOOD, **{'reid/R1': float('-inf')})),
     'reid/R1 is -inf'),
    (json.dumps(dict(GOOD, **{'reid/R5': '70'})), "reid/R5 is '70'"),
    (json.dumps(dict(GOOD, **{'reid/R5': True})), 'reid/R5 is True'),
])
def test_a_result_must_be_complete_and_finite(tmp_path, content, message):
    path = tmp_path / 'test_metrics.json'
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError, match=f'^{path}.*{message}'):
        read_run_metrics(str(path))


def test_a_finished_result(tmp_path):
    path = tmp_path / 'test_metrics.json'
    path.write_text(json.dumps(GOOD))
    assert read_run_metrics(str(path)) == {k: float(v)
                                           for k, v in GOOD.items()}
    path.write_text('{"reid/mAP": 3}')
    assert read_run_metrics(str(path), required=('mAP', )) == {
        'reid/mAP': 3.0
    }


def test_commit_moves_only_a_good_result_in_place(tmp_path):
    partial = tmp_path / PARTIAL_METRICS_FILE
    with pytest.raises(ConfigError, match='was not written'):
        commit_run_metrics(str(tmp_path))
    partial.write_text('{"reid/mAP": NaN}')
    with pytest.raises(ConfigError, match='reid/mAP is nan'):
        commit_run_metrics(str(tmp_path))
    assert partial.exists() and not (tmp_path / 'test_metrics.json').exists()
    partial.write_text(json.dumps(GOOD))
    assert commit_run_metrics(str(tmp_path))['reid/mAP'] == 50.5
    assert not partial.exists()
    assert json.loads((tmp_path / 'test_metrics.json').read_text()) == GOOD
