# Copyright (c) mmieee contributors.
"""tools/analysis_tools/run_study.py: the runs of configs x seeds, what is
resumed or skipped, the study record, damaged or non-finite results, the
progress lines, and one real train + test."""
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
    what train.py (checkpoints) or test.py (``metrics``) would; each
    command takes ``seconds`` of the tool's (virtual) clock."""

    def __init__(self, tool, metrics='{"reid/mAP": 1.0}', seconds=0.0):
        self.tool = tool
        self.commands = []
        self.metrics = metrics
        self.seconds = seconds
        self.now = 0.0

    def install(self, monkeypatch):
        monkeypatch.setattr(self.tool, 'run_logged', self)
        monkeypatch.setattr(self.tool, '_clock', lambda: self.now)
        return self

    def __call__(self, cmd, log):
        self.commands.append(cmd)
        self.now += self.seconds
        run = Path(cmd[cmd.index('--work-dir') + 1])
        if Path(cmd[1]).name == 'test.py':
            out = Path(cmd[cmd.index('--out') + 1])
            out.write_text(self.metrics)
        else:
            run.mkdir(parents=True, exist_ok=True)
            (run / 'epoch_2.pth').write_text('')
            (run / 'last_checkpoint').write_text('')
        return 0.0


def test_plan_resumes_and_skips(tiny_config, tmp_path, monkeypatch,
                                capsys):
    tool = _load_tool()
    fake = _FakeRuns(tool).install(monkeypatch)
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


@pytest.mark.parametrize('damage', ['{"reid/mAP": 8', '', '{"reid/R1": 5}',
                                    '{"reid/mAP": NaN}'])
def test_a_damaged_result_is_not_a_finished_run(tiny_config, tmp_path,
                                                monkeypatch, capsys, damage):
    """A test_metrics.json cut short while written (or empty, incomplete,
    NaN) is named and its run tested again instead of counted done."""
    tool = _load_tool()
    fake = _FakeRuns(tool).install(monkeypatch)
    run = tmp_path / 's' / Path(tiny_config).stem / 'seed_0'
    run.mkdir(parents=True)
    (run / 'epoch_2.pth').write_text('')
    (run / 'test_metrics.json').write_text(damage)
    tool.main([str(tiny_config), '--seeds', '0', '--work-dir',
               str(tmp_path / 's')])
    out = capsys.readouterr().out
    assert f'Not finished: {run / "test_metrics.json"}' in out
    assert '1 runs, 0 already done' in out
    assert [Path(c[1]).name for c in fake.commands] == ['test.py']
    assert json.loads((run / 'test_metrics.json').read_text()) == \
        {'reid/mAP': 1.0}


@pytest.mark.parametrize('metrics, message', [
    ('{"reid/mAP": NaN, "reid/R1": 1.0}', 'reid/mAP is nan'),
    ('{"reid/mAP": 1.0, "reid/R1": Infinity}', 'reid/R1 is inf'),
    ('{"reid/mAP": 5', 'is not valid JSON'),
])
def test_a_non_finite_test_result_stops_the_study_naming_the_run(
        tiny_config, tmp_path, monkeypatch, capsys, metrics, message):
    tool = _load_tool()
    fake = _FakeRuns(tool, metrics=metrics).install(monkeypatch)
    work = tmp_path / 's'
    with pytest.raises(SystemExit) as exit_info:
        tool.main([str(tiny_config), '--seeds', '0', '1', '--work-dir',
                   str(work)])
    assert exit_info.value.code == 2
    run = work / Path(tiny_config).stem / 'seed_0'
    err = capsys.readouterr().err
    assert err.startswith(f'Error: {run / "test_metrics.partial.json"}')
    assert message in err
    assert not (run / 'test_metrics.json').exists()  # not finished
    assert len(fake.commands) == 2  # seed 1 not started


def test_study_record_is_written_atomically(tiny_config, tmp_path,
                                            monkeypatch):
    """A process killed while it writes study.json leaves the previous
    record whole (not a truncated file)."""
    import builtins
    tool = _load_tool()
    _FakeRuns(tool).install(monkeypatch)
    work = tmp_path / 's'
    argv = [str(tiny_config), '--seeds', '0', '--work-dir', str(work)]
    tool.main(argv)
    before = (work / 'study.json').read_text()
    real_open = builtins.open

    class _Killed:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:len(data) // 2])
            self.f.flush()
            raise KeyboardInterrupt

        def __getattr__(self, name):
            return getattr(self.f, name)

    def killing_open(path, mode='r', *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if 'study.json' in str(path) and 'w' in mode:
            return _Killed(f)
        return f

    monkeypatch.setattr(builtins, 'open', killing_open)
    with pytest.raises(KeyboardInterrupt):
        tool.main(argv[:3] + ['1'] + argv[3:])  # a new seed
    monkeypatch.setattr(builtins, 'open', real_open)
    assert (work / 'study.json').read_text() == before
    assert sorted(p.name for p in work.iterdir()) == sorted(
        [Path(tiny_config).stem, 'study.json'])  # no partial file left


def test_progress_names_the_run_and_the_time(tiny_config, tmp_path,
                                             monkeypatch, capsys):
    """Each run is announced as i/n with the study's time so far and the
    estimate from the runs done (each fake command takes 60 s: a run is
    2 min)."""
    tool = _load_tool()
    _FakeRuns(tool, seconds=60.0).install(monkeypatch)
    tool.main([str(tiny_config), '--seeds', '0', '1', '2', '--work-dir',
               str(tmp_path / 's')])
    heads = [ln for ln in capsys.readouterr().out.splitlines()
             if ln.startswith('[')]
    name = Path(tiny_config).stem
    assert heads == [
        f'[1/3] {name} seed 0: train (study 0.0 min so far)',
        f'[1/3] {name} seed 0: test (study 1.0 min so far)',
        f'[2/3] {name} seed 1: train (study 2.0 min so far, about 4.0 min '
        'left)',
        f'[2/3] {name} seed 1: test (study 3.0 min so far, about 6.0 min '
        'left)',
        f'[3/3] {name} seed 2: train (study 4.0 min so far, about 2.0 min '
        'left)',
        f'[3/3] {name} seed 2: test (study 5.0 min so far, about 2.5 min '
        'left)',
    ]


def test_a_running_command_shows_its_last_log_line(tmp_path, capsys):
    """While a train / test runs, its log's last line is printed every
    heartbeat (not once per minute of silence); a failure names the
    command and shows the end of the log."""
    tool = _load_tool()
    script = ('import time\n'
              'for i in range(3):\n'
              '    print(f"Epoch(train) [{i + 1}][5/5]", flush=True)\n'
              '    time.sleep(0.6)\n')
    log = tmp_path / 'run' / 'train_stdout.log'
    took = tool.run_logged([sys.executable, '-c', script], str(log),
                           heartbeat_s=0.25)
    assert took >= 1.5
    lines = capsys.readouterr().out.splitlines()
    shown = [ln.split(': ', 1)[1] for ln in lines]
    assert shown[:2] == ['Epoch(train) [1][5/5]', 'Epoch(train) [2][5/5]']
    assert len(shown) == len(set(shown))  # only when the line changed
    assert all(ln.startswith('  ') and ' min: ' in ln for ln in lines)
    with pytest.raises(RuntimeError, match=r'exited with status 3; end of '
                       rf'{log}:\nbroken'):
        tool.run_logged([sys.executable, '-c',
                         'print("broken"); raise SystemExit(3)'], str(log))


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
    fake = _FakeRuns(tool).install(monkeypatch)
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
    # written under a temporary name, checked, then renamed
    assert args.out.endswith('seed_4/test_metrics.partial.json')
    assert json.loads((tmp_path / 's' / Path(tiny_config).stem / 'seed_4' /
                       'test_metrics.json').read_text()) == {'reid/mAP': 1.0}
    assert not Path(args.out).exists()


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
