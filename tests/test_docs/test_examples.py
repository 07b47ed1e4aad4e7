# Copyright (c) mmieee contributors.
"""The worked examples of docs/ run as written (on generated data and the
tiny model where the real ones are too large)."""
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmieee.testing.doc_commands import block_commands, code_blocks
from mmieee.utils import build_runner, load_tool_config

REPO = Path(__file__).resolve().parents[2]
R50_BASE = "_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']"


def python_blocks(page: str) -> list:
    """The ```python blocks of a docs page, in order."""
    text = (REPO / 'docs' / page).read_text()
    return re.findall(r'```python\n(.*?)```', text, re.S)


def with_base(block: str, base: Path) -> str:
    assert R50_BASE in block
    return block.replace(R50_BASE, f'_base_ = [{str(base)!r}]')


@pytest.fixture
def campus(tmp_path, monkeypatch):
    """data/campus as docs/datasets.md describes it, in a temporary cwd."""
    img = cv2.imencode('.png', np.full((32, 16, 3), 90, np.uint8))[1]
    for split, pids in (('train', range(1, 5)), ('test', range(5, 7))):
        for pid in pids:
            for cam in (1, 2):
                for k in range(2):
                    for folder in ('visible', 'thermal'):
                        path = (tmp_path / 'data' / 'campus' / split /
                                folder / f'{pid:03d}_cam{cam}_{k:04d}.png')
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(img.tobytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_add_your_own_dataset(campus, capsys):
    load, config, subclass = [b for b in python_blocks('datasets.md')
                              if 'MSVWild863' not in b]
    exec(load, {})
    assert '4 training identities' in capsys.readouterr().out
    path = campus / 'campus_config.py'
    path.write_text(
        with_base(config,
                  REPO / 'configs' / 'ieee' / 'ieee_r50_1xb8-61e_rgbnt201.py'))
    cfg = load_tool_config(str(path))
    from mmengine.registry import init_default_scope

    from mmieee.registry import DATASETS
    init_default_scope('mmieee')
    for key in ('train_dataloader', 'test_dataloader'):
        ds = DATASETS.build(cfg[key].dataset)
        assert ds.metainfo['modalities'] == ('RGB', 'TI')
        assert ds[0]['inputs'].shape == (2, 3, 256, 128)
    namespace = {}
    exec(subclass, namespace)
    assert len(namespace['test']) == 2 * 2 * 2


def test_wmveid863_demo_copy_from_the_docs(tmp_path, monkeypatch, capsys):
    """The layout arguments that read DeMo's flat MSVWild863 copy."""
    block = [b for b in python_blocks('datasets.md') if 'MSVWild863' in b]
    assert len(block) == 1
    img = cv2.imencode('.jpg', np.full((16, 8, 3), 90, np.uint8))[1]
    names = dict(train=['000001_cam1_0_01.jpg'],
                 query=['000005_cam1_0_01.jpg', '000006_cam2_0_01.jpg'],
                 test=['000005_cam3_0_02.jpg', '000006_cam4_0_02.jpg'])
    for split, files in names.items():
        for name in files:
            for folder in ('vis', 'ni', 'th'):
                path = tmp_path / 'data' / 'MSVWild863' / split / folder
                path.mkdir(parents=True, exist_ok=True)
                (path / name).write_bytes(img.tobytes())
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(block[0], namespace)
    assert '2 test vehicles' in capsys.readouterr().out
    test = namespace['test']
    infos = [test.get_data_info(i) for i in range(len(test))]
    assert [(i['pid'], i['camid'], i['is_query']) for i in infos] == [
        (5, 0, True), (6, 1, True), (5, 2, False), (6, 3, False)]


def test_add_your_own_module(sandbox):
    """docs/add_module.md as a user follows it: each ```python block saved
    where its first line says, then the page's commands in a copy of the
    repository."""
    box = sandbox()
    blocks = [b for b in code_blocks(REPO / 'docs' / 'add_module.md', REPO)
              if b.lang == 'python']
    for block in blocks:
        first = block.text.splitlines()[0]
        assert first.startswith('# ') and first.endswith('.py'), first
        box.write(first[2:], block.text)
    script, check = [
        c for b in code_blocks(REPO / 'docs' / 'add_module.md', REPO)
        if b.lang == 'bash' for c in block_commands(b)]
    # The script registers the loss by importing its module, then trains
    # one step of a head that uses it.
    proc = box.run(script, timeout=120)
    assert proc.stdout.startswith('loss_pull '), proc.stdout
    # The config's custom_imports finds my_project (PYTHONPATH=.); what it
    # then misses is only the dataset its comment names.
    assert check.needs == ('data/RGBNT201', )
    proc = box.run(check, expect=2, timeout=120)
    assert 'RGBNT201' in proc.stderr and 'dataset not found' in proc.stderr
    assert 'my_project' not in proc.stderr
    # Without PYTHONPATH=. the page's warning is what the user sees.
    bare = check.source.replace('PYTHONPATH=. ', '')
    proc = box.run(bare, expect=None, timeout=120)
    assert proc.returncode != 0
    assert "No module named 'my_project'" in proc.stdout + proc.stderr


def test_two_modality_config_from_the_docs_trains(tiny_config, tmp_path):
    block = [b for b in python_blocks('train_test.md')
             if 'my_rgb-ti_rgbnt201.py' in b][0]
    path = tmp_path / 'rgb_ti.py'
    path.write_text(block.replace(
        "_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']",
        f'_base_ = [{str(tiny_config)!r}]'))
    cfg = load_tool_config(
        str(path), {'train_cfg.max_epochs': 1}, work_dir=str(tmp_path / 'w'))
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.experiment_name = f'rgb_ti_{os.getpid()}'
    runner = build_runner(cfg)
    runner.train()
    assert runner.model.modalities == ('RGB', 'TI')
    assert len(runner.model.backbone.streams) == 2
    assert (tmp_path / 'w' / 'epoch_1.pth').is_file()


def test_two_modality_command_line_from_the_docs(tiny_config):
    text = (REPO / 'docs' / 'train_test.md').read_text()
    command = re.search(r'python tools/train.py configs/ieee_rgbnt201.py '
                        r'--cfg-options (.*?)\n```', text, re.S).group(1)
    options = re.findall(r'"([^"]+)"', command)
    import argparse

    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parsed = parser.parse_args(['--cfg-options'] + options).cfg_options
    cfg = load_tool_config(str(tiny_config), parsed)  # the checks pass
    from mmieee.registry import MODELS
    model = MODELS.build(cfg.model)
    assert model.modalities == ('RGB', 'TI')
    assert len(model.backbone.streams) == 2


def test_official_schedule_configs_from_the_docs():
    """The two schedule blocks of train_test.md hold the arguments that the
    scheduler test proves equal to the official tables."""
    import json
    ref = json.loads((REPO / 'tests' / 'data' /
                      'official_lr_schedules.json').read_text())
    blocks = [b for b in python_blocks('train_test.md')
              if 'TimmCosineLR' in b]
    assert len(blocks) == 2
    topreid, demo = ({}, {})
    exec(blocks[0], topreid)
    exec(blocks[1], demo)
    sched = dict(topreid['param_scheduler'])
    assert sched.pop('type') == 'TimmCosineLR'
    assert sched == ref['topreid_rgbnt201']['scheduler']
    optimizer = topreid['optim_wrapper']['optimizer']
    assert {k: optimizer[k] for k in ('type', 'lr', 'momentum',
                                      'weight_decay')} == \
        ref['topreid_rgbnt201']['optimizer']
    assert topreid['optim_wrapper']['paramwise_cfg'] == dict(
        custom_keys={'bias': dict(lr_mult=2.0)})
    sched = dict(demo['param_scheduler'])
    sched.pop('type')
    official = dict(ref['demo']['RGBNT201']['scheduler'])
    official['noise_range'] = tuple(official['noise_range'])
    assert sched == official
    optimizer = demo['optim_wrapper']['optimizer']
    assert optimizer == ref['demo']['optimizer']
    # the parameter groups of the shipped DeMo schedule
    from mmengine.config import Config
    shipped = Config.fromfile(
        str(REPO / 'configs' / '_base_' / 'schedules' / 'demo_adam_50e.py'))
    assert demo['optim_wrapper']['paramwise_cfg'] == \
        shipped.optim_wrapper.paramwise_cfg.to_dict()
    assert demo['param_scheduler'] == shipped.param_scheduler.to_dict()
    assert topreid['train_cfg']['max_epochs'] == 120
    assert demo['train_cfg']['max_epochs'] == 50
