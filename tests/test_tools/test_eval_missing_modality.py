# Copyright (c) mmieee contributors.
"""tools/analysis_tools/eval_missing_modality.py: every scenario, one table,
the full scenario equal to tools/test.py, blanking equal to test_cfg."""
import importlib.util
import json
from pathlib import Path

import pytest

TOOL = 'tools/analysis_tools/eval_missing_modality.py'


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'mmieee_eval_missing_modality',
        Path(__file__).resolve().parents[2] / TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scenarios_are_full_set_then_proper_subsets():
    tool = _load_tool()
    assert tool.missing_scenarios(('RGB', 'NI', 'TI')) == [
        (), ('RGB', ), ('NI', ), ('TI', ), ('RGB', 'NI'), ('RGB', 'TI'),
        ('NI', 'TI')
    ]
    assert tool.missing_scenarios(('RGB', 'TI')) == [(), ('RGB', ),
                                                     ('TI', )]
    assert len(tool.missing_scenarios(tuple('ABCD'))) == 2**4 - 1


def test_table_lists_every_scenario():
    tool = _load_tool()
    rows = [
        dict(missing=[], present=['RGB', 'TI'],
             metrics={'reid/mAP': 50.0, 'reid/R1': 60.0, 'reid/R5': 70.0,
                      'reid/R10': 80.0}),
        dict(missing=['TI'], present=['RGB'],
             metrics={'reid/mAP': 5.125, 'reid/R1': 6.0, 'reid/R5': 7.0,
                      'reid/R10': 8.0}),
    ]
    lines = tool.format_table(rows).splitlines()
    assert lines[0].split() == ['Missing', 'Present', 'mAP', 'R1', 'R5',
                                'R10']
    assert lines[2].split() == ['none', '(full)', 'RGB', '+', 'TI', '50.00',
                                '60.00', '70.00', '80.00']
    assert lines[3].split() == ['TI', 'RGB', '5.12', '6.00', '7.00', '8.00']


def test_tool_on_trained_checkpoint(tools, tiny_config, trained_run,
                                    tmp_path):
    ckpt = trained_run / 'epoch_2.pth'
    out = tmp_path / 'missing.json'
    proc = tools.run(
        [TOOL, tiny_config, ckpt, '--work-dir', tmp_path / 'w', '--out', out])
    rows = json.loads(out.read_text())
    assert [r['missing'] for r in rows] == [[], ['RGB'], ['NI'], ['TI'],
                                            ['RGB', 'NI'], ['RGB', 'TI'],
                                            ['NI', 'TI']]
    assert rows[3]['present'] == ['RGB', 'NI']
    for line in ('none (full)', 'RGB + NI', 'NI + TI'):
        assert line in proc.stdout
    for i in range(1, 8):
        assert f'Scenario {i}/7' in proc.stdout
    full = rows[0]['metrics']

    # The full scenario is the ordinary evaluation (logged after epoch 2) ...
    logged = tools.read_val_metrics(trained_run)[-1]
    assert logged['step'] == 2
    for key in ('reid/mAP', 'reid/R1', 'reid/R5', 'reid/R10'):
        assert full[key] == pytest.approx(logged[key], abs=1e-4)
    # ... and a blanked one is the evaluation with test_cfg.blank_modalities
    blank = tmp_path / 'blank.json'
    tools.run([
        'tools/test.py', tiny_config, ckpt, '--work-dir', tmp_path / 'w2',
        '--out', blank, '--cfg-options',
        'model.test_cfg.blank_modalities=[NI,TI]'
    ])
    blank_metrics = json.loads(blank.read_text())
    assert rows[6]['metrics']['reid/mAP'] == pytest.approx(
        blank_metrics['reid/mAP'])
    # removing modalities changes the features, hence the ranking
    assert len({round(r['metrics']['reid/mAP'], 6) for r in rows}) > 1


def test_cross_modal_pairs_are_table2_pairs_the_model_has():
    tool = _load_tool()
    pairs, skipped = tool.cross_modal_pairs(('RGB', 'NI', 'TI'))
    assert pairs == [('RGB', 'TI'), ('TI', 'RGB'), ('RGB', 'NI'),
                     ('NI', 'RGB')]
    assert skipped == []
    pairs, skipped = tool.cross_modal_pairs(('RGB', 'TI'))
    assert pairs == [('RGB', 'TI'), ('TI', 'RGB')]
    assert skipped == [('RGB', 'NI'), ('NI', 'RGB')]
    assert tool.cross_modal_pairs(('RGB', 'NI', 'TI'), ['NI:TI'])[0] == [
        ('NI', 'TI')
    ]
    for bad in (['RGB:IR'], ['RGB'], ['TI:TI']):
        with pytest.raises(ValueError, match='QUERY:GALLERY'):
            tool.cross_modal_pairs(('RGB', 'NI', 'TI'), bad)
    with pytest.raises(ValueError, match='none of the pairs'):
        tool.cross_modal_pairs(('NI', 'TI'))


def test_cross_table_lists_every_pair():
    tool = _load_tool()
    rows = [
        dict(query='RGB', gallery='TI',
             metrics={'reid/mAP': 12.5, 'reid/R1': 25.0, 'reid/R5': 50.0,
                      'reid/R10': 75.0}),
    ]
    lines = tool.format_cross_table(rows).splitlines()
    assert lines[0].split() == ['Query', '->', 'gallery', 'mAP', 'R1', 'R5',
                                'R10']
    assert lines[2].split() == ['RGB', '->', 'TI', '12.50', '25.00',
                                '50.00', '75.00']


def test_cross_modal_tool_on_trained_checkpoint(tools, tiny_config,
                                                trained_run, tmp_path):
    """Table 2's four pairs, each equal to tools/test.py with the same
    query / gallery blanking; progress is logged per scenario."""
    ckpt = trained_run / 'epoch_2.pth'
    out = tmp_path / 'cross.json'
    proc = tools.run([
        TOOL, tiny_config, ckpt, '--cross-modal', '--work-dir',
        tmp_path / 'w', '--out', out
    ])
    rows = json.loads(out.read_text())
    assert [(r['query'], r['gallery']) for r in rows] == [
        ('RGB', 'TI'), ('TI', 'RGB'), ('RGB', 'NI'), ('NI', 'RGB')
    ]
    for i in range(1, 5):
        assert f'Scenario {i}/4' in proc.stdout
    assert 'NI -> RGB' in proc.stdout
    single = tmp_path / 'rgb_ti.json'
    tools.run([
        'tools/test.py', tiny_config, ckpt, '--work-dir', tmp_path / 'w2',
        '--out', single, '--cfg-options',
        'model.test_cfg.query_blank_modalities=[NI,TI]',
        'model.test_cfg.gallery_blank_modalities=[RGB,NI]'
    ])
    expected = json.loads(single.read_text())
    for key in ('reid/mAP', 'reid/R1', 'reid/mINP'):
        assert rows[0]['metrics'][key] == pytest.approx(expected[key])
    # RGB -> TI and TI -> RGB are different retrieval problems
    assert rows[0]['metrics'] != rows[1]['metrics']
    proc = tools.run([TOOL, tiny_config, ckpt, '--pairs', 'RGB:TI'],
                     check=False)
    assert proc.returncode == 2
    assert 'Error: --pairs needs --cross-modal' in proc.stderr


@pytest.mark.parametrize('mode', [[], ['--cross-modal']])
def test_checkpoint_of_other_modalities_is_refused_before_any_scenario(
        tools, tiny_config, trained_run, tmp_path, mode):
    """A three-modality checkpoint in an RGB + TI config (the tool loaded
    non-strictly and printed full tables)."""
    ckpt = trained_run / 'epoch_2.pth'
    proc = tools.run(
        [TOOL, tiny_config, ckpt, '--work-dir', tmp_path / 'w', '--out',
         tmp_path / 'o.json'] + mode +
        ['--cfg-options', 'model.modalities=[RGB,TI]'] +
        [f'{split}_dataloader.dataset.modalities=[RGB,TI]'
         for split in ('train', 'val', 'test')],
        check=False, timeout=180)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert f'Error: checkpoint {ckpt} does not fit the model' in proc.stderr
    assert "trained on modalities ['RGB', 'NI', 'TI']" in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert 'Scenario 1/' not in proc.stdout + proc.stderr
    assert not (tmp_path / 'o.json').exists()


def test_out_folder_is_refused_before_loading(tools, tiny_config,
                                              trained_run, tmp_path):
    (tmp_path / 'dir.json').mkdir()
    proc = tools.run(
        [TOOL, tiny_config, trained_run / 'epoch_2.pth', '--out',
         tmp_path / 'dir.json'], check=False, timeout=120)
    assert proc.returncode == 2
    assert f'Error: --out {tmp_path / "dir.json"} is a folder' in proc.stderr
