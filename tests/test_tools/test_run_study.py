# Copyright (c) mmieee contributors.
"""tools/analysis_tools/run_study.py: the runs of configs x seeds, what is
resumed or skipped, the study record, and one real train + test."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

TOOL = 'tools/analysis_tools/run_study.py'


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'mmieee_run_study', Path(__file__).resolve().parents[2] / TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _FakeRuns:
    """Stands in for the subprocesses: records each command and writes
    what train.py (checkpoints) or test.py (metrics) would."""

    def __init__(self, tool):
        self.tool = tool
        self.commands = []

    def __call__(self, cmd, log):
        self.commands.append(cmd)
        run = Path(cmd[cmd.index('--work-dir') + 1])
        if Path(cmd[1]).name == 'test.py':
            out = Path(cmd[cmd.index('--out') + 1])
            out.write_text(json.dumps({'reid/mAP': 1.0}))
        else:
            run.mkdir(parents=True, exist_ok=True)
            (run / 'epoch_2.pth').write_text('')
            (run / 'last_checkpoint').write_text('')
        return 0.0


def test_plan_resumes_and_skips(tiny_config, tmp_path, monkeypatch,
                                capsys):
    tool = _load_tool()
    fake = _FakeRuns(tool)
    monkeypatch.setattr(tool.Study, 'execute',
                        lambda self, cmd, log: fake(cmd, log))
    work = tmp_path / 'study'
    name = Path(tiny_config).stem
    # seed 1 was interrupted after an epoch, seed 2 trained but not tested
    (work / name / 'seed_1').mkdir(parents=True)
    (work / name / 'seed_1' / 'last_checkpoint').write_text('')
    (work / name / 'seed_2').mkdir(parents=True)
    (work / name / 'seed_2' / 'epoch_2.pth').write_text('')
    argv = [str(tiny_config), '--seeds', '0', '1', '2', '--work-dir',
            str(work), '--cfg-options', 'train_cfg.val_interval=2']
    tool.main(argv)
    steps = [(Path(c[1]).name, c[c.index('--work-dir') + 1].split('/')[-1]
              if Path(c[1]).name == 'train.py' else
              c[c.index('--work-dir') + 1].split('/')[-2], '--resume' in c)
             for c in fake.commands]
    assert steps == [('train.py', 'seed_0', False), ('test.py', 'seed_0',
                                                     False),
                     ('train.py', 'seed_1', True), ('test.py', 'seed_1',
                                                    False),
                     ('test.py', 'seed_2', False)]
    first = fake.commands[0]
    assert first[0] == sys.executable
    assert first[-3:] == ['--cfg-options', 'train_cfg.val_interval=2',
                          'randomness.seed=0']
    test = fake.commands[1]
    assert test[3].endswith(f'{name}/seed_0/epoch_2.pth')  # the last epoch
    study = json.loads((work / 'study.json').read_text())
    assert study['seeds'] == [0, 1, 2]
    assert study['cfg_options'] == ['train_cfg.val_interval=2']
    assert study['configs'] == {name: str(tiny_config)}

    # everything done: nothing runs; another seed is added to the study
    fake.commands.clear()
    tool.main(argv)
    assert fake.commands == []
    assert '3 runs, 3 already done' in capsys.readouterr().out
    tool.main(argv[:4] + ['3'] + argv[4:])
    assert len(fake.commands) == 2
    assert json.loads((work / 'study.json').read_text())['seeds'] == \
        [0, 1, 2, 3]


def _tool_module(name):
    spec = importlib.util.spec_from_file_location(
        f'mmieee_{name}', Path(__file__).resolve().parents[2] / 'tools' /
        f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_commands_parse_as_the_tools_options(tiny_config, tmp_path,
                                             monkeypatch):
    """What run_study passes is accepted by train.py / test.py."""
    tool = _load_tool()
    fake = _FakeRuns(tool)
    monkeypatch.setattr(tool.Study, 'execute',
                        lambda self, cmd, log: fake(cmd, log))
    tool.main([str(tiny_config), '--seeds', '4', '--work-dir',
               str(tmp_path / 's'), '--no-validate', '--cfg-options',
               'train_cfg.val_interval=2'])
    train, test = fake.commands
    args = _tool_module('train').parse_args(train[2:])
    assert (args.no_validate, args.resume) == (True, None)
    assert args.cfg_options == {'train_cfg.val_interval': 2,
                                'randomness.seed': 4}
    args = _tool_module('test').parse_args(test[2:])
    assert args.checkpoint.endswith('seed_4/epoch_2.pth')
    assert args.out.endswith('seed_4/test_metrics.json')


def test_user_errors(tiny_config, tmp_path, capsys):
    tool = _load_tool()
    work = tmp_path / 'study'
    work.mkdir()
    (work / 'study.json').write_text(json.dumps(
        dict(configs={}, seeds=[0], cfg_options=['train_cfg.max_epochs=9'])))
    for args, message in (
        ([], 'was made with --cfg-options'),
        (['--launcher', 'pytorch'], '--launcher pytorch needs --nproc'),
        (['--cfg-options', 'randomness.seed=3'], 'set the seeds with'),
        (['--cfg-options', 'trian_cfg.max_epochs=1'], "'trian_cfg'"),
        (['--cfg-options', 'max_epochs'], 'is not KEY=VALUE'),
    ):
        with pytest.raises(SystemExit) as exit_info:
            tool.main([str(tiny_config), '--work-dir',
                       str(work if not args else tmp_path / 'other'), *args])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_real_test_run_then_summary(tiny_config, trained_run, tmp_path,
                                    tools, capsys):
    """A seed whose training is done (the shared 2-epoch run's last
    checkpoint): run_study runs tools/test.py for real on epoch_2.pth, so
    its metrics are the ones logged after epoch 2, and the summary reads
    them."""
    tool = _load_tool()
    work = tmp_path / 'study'
    run = work / Path(tiny_config).stem / 'seed_7'
    run.mkdir(parents=True)
    (run / 'epoch_2.pth').symlink_to(trained_run / 'epoch_2.pth')
    tool.main([str(tiny_config), '--seeds', '7', '--work-dir', str(work)])
    assert ': test' in capsys.readouterr().out
    metrics = json.loads((run / 'test_metrics.json').read_text())
    logged = tools.read_val_metrics(trained_run)[-1]
    assert logged['step'] == 2
    for key in ('reid/mAP', 'reid/R1', 'reid/mINP'):
        assert metrics[key] == pytest.approx(logged[key], abs=1e-4)
    summary = _tool_module('analysis_tools/summarize_results')
    table = summary.format_table(summary.load_study(str(work)))
    assert f'| {metrics["reid/mAP"]:.2f} (1 seed) |' in table
