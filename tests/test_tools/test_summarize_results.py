# Copyright (c) mmieee contributors.
"""tools/analysis_tools/summarize_results.py: mean ± std against a hand
computation, per-seed rows, paper numbers from the metafile, and refusal of
a study with a missing seed or a damaged / non-finite result."""
import importlib.util
import json
from pathlib import Path

import pytest

from mmieee.utils import ConfigError

TOOL = 'tools/analysis_tools/summarize_results.py'
OFFICIAL = 'configs/ieee/ieee_r50_1xb8-61e_rgbnt201.py'


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'mmieee_summarize_results',
        Path(__file__).resolve().parents[2] / TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(work_dir: Path, name: str, seed: int, base: float) -> None:
    run = work_dir / name / f'seed_{seed}'
    run.mkdir(parents=True)
    metrics = {f'reid/{m}': base + i for i, m in
               enumerate(('mAP', 'R1', 'R5', 'R10', 'R20', 'mINP'))}
    (run / 'test_metrics.json').write_text(json.dumps(metrics))


def _study(tmp_path: Path, seeds=(0, 1, 2)) -> Path:
    """Two configs; mAP of the official one 50, 52, 57 over seeds 0, 1, 2
    (R1 = mAP + 1, R5 = mAP + 2, R10 = mAP + 3, mINP = mAP + 5)."""
    work = tmp_path / 'study'
    for seed, base in zip((0, 1, 2), (50.0, 52.0, 57.0)):
        if seed in seeds:
            _write(work, 'ieee_r50_1xb8-61e_rgbnt201', seed, base)
        _write(work, 'my_variant', seed, 10.0)
    (work / 'study.json').write_text(json.dumps(dict(
        configs={'ieee_r50_1xb8-61e_rgbnt201': OFFICIAL,
                 'my_variant': '/somewhere/else/my_variant.py'},
        seeds=[0, 1, 2], cfg_options=[])))
    return work


def test_mean_std_and_rows_against_hand_computation(tmp_path):
    """mean (50 + 52 + 57) / 3 = 53; sample std sqrt((9 + 1 + 16) / 2) =
    sqrt(13) = 3.6056; the same spread for every metric."""
    tool = _load_tool()
    table = tool.format_table(tool.load_study(str(_study(tmp_path))))
    lines = table.splitlines()
    assert lines[0] == ('| Config | Run | mAP | R1 | R5 | R10 | mINP | '
                        'Paper mAP / R1 / R5 / R10 |')
    cells = [c.strip() for c in lines[2].split('|')[1:-1]]
    assert cells == [
        'ieee_r50_1xb8-61e_rgbnt201', 'mean ± std (3 seeds)',
        '53.00 ± 3.61', '54.00 ± 3.61', '55.00 ± 3.61', '56.00 ± 3.61',
        '58.00 ± 3.61', '46.42 / 47.13 / 58.49 / 64.23'
    ]
    seed_rows = [[c.strip() for c in line.split('|')[1:-1]]
                 for line in lines[3:6]]
    assert seed_rows[2] == ['', 'seed 2', '57.00', '58.00', '59.00',
                            '60.00', '62.00', '']
    # a config without a metafile entry, no spread
    cells = [c.strip() for c in lines[6].split('|')[1:-1]]
    assert cells[2] == '10.00 ± 0.00' and cells[-1] == '—'
    assert len(lines) == 2 + 2 * 4


def test_refuses_a_missing_seed_and_names_it(tmp_path, tools):
    tool = _load_tool()
    work = _study(tmp_path, seeds=(0, 2))
    with pytest.raises(ConfigError,
                       match=r'ieee_r50_1xb8-61e_rgbnt201: seed 1 has no '
                       r'result'):
        tool.load_study(str(work))
    # the finished seeds only when asked for explicitly
    study = tool.load_study(str(work), seeds=[0, 2])
    assert study['seeds'] == [0, 2]
    out = tmp_path / 'table.md'
    proc = tools.run([TOOL, work, '--out', out], check=False)
    assert proc.returncode == 2 and 'seed 1 has no result' in proc.stderr
    assert not out.exists()


def test_config_selection_order_and_no_study_file(tmp_path):
    tool = _load_tool()
    work = _study(tmp_path)
    study = tool.load_study(str(work), configs=['my_variant'])
    assert list(study['configs']) == ['my_variant']
    with pytest.raises(ConfigError, match="no config named 'nope'"):
        tool.load_study(str(work), configs=['nope'])
    (work / 'study.json').unlink()
    # without study.json: every <config>/seed_<n> folder, no metafile path
    study = tool.load_study(str(work))
    assert study['seeds'] == [0, 1, 2]
    assert sorted(study['configs']) == ['ieee_r50_1xb8-61e_rgbnt201',
                                        'my_variant']
    assert tool.format_table(study).splitlines()[2].endswith('| — |')


def test_single_seed_has_no_spread(tmp_path):
    tool = _load_tool()
    study = tool.load_study(str(_study(tmp_path)), seeds=[1])
    assert '| 52.00 (1 seed) |' in tool.format_table(study)


@pytest.mark.parametrize('content, message', [
    ('{"reid/mAP": 50.0, "reid/R1"', 'is not valid JSON'),  # truncated
    ('', 'is not valid JSON'),
    ('[50.0]', 'holds list, not the JSON object of metrics'),
    ('{"reid/mAP": NaN, "reid/R1": 1, "reid/R5": 1, "reid/R10": 1, '
     '"reid/mINP": 1}', 'reid/mAP is nan, not a finite number'),
    ('{"reid/mAP": 1, "reid/R1": Infinity, "reid/R5": 1, "reid/R10": 1, '
     '"reid/mINP": 1}', 'reid/R1 is inf, not a finite number'),
])
def test_refuses_a_damaged_or_non_finite_result_naming_the_file(
        tmp_path, capsys, content, message):
    """A result cut short while written, or a NaN / inf metric (JSON as
    Python writes it), ends the tool with ``Error: <file>: ...`` and exit
    status 2 -- no traceback, no ``nan ± nan`` row."""
    tool = _load_tool()
    work = _study(tmp_path)
    bad = work / 'my_variant' / 'seed_1' / 'test_metrics.json'
    bad.write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        tool.main([str(work)])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert err.startswith(f'Error: {bad}') and message in err
    assert out == ''


def test_study_record_that_is_not_json_is_named(tmp_path):
    tool = _load_tool()
    work = _study(tmp_path)
    (work / 'study.json').write_text('{"configs": {')
    with pytest.raises(ConfigError,
                       match=rf'{work / "study.json"} is not valid JSON'):
        tool.load_study(str(work))


def test_out_is_written_whole_or_named(tmp_path, capsys):
    tool = _load_tool()
    work = _study(tmp_path)
    out = tmp_path / 'table.md'
    table = tool.main([str(work), '--out', str(out)])
    assert out.read_text() == table
    blocked = tmp_path / 'table.md' / 'x.md'  # table.md is a file
    with pytest.raises(SystemExit) as exit_info:
        tool.main([str(work), '--out', str(blocked)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith(
        f'Error: --out {blocked}: cannot write it')
