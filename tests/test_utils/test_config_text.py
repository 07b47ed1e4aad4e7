# Copyright (c) mmieee contributors.
"""parse_config_text reads what mmengine stores in a checkpoint, as
Config.fromstring would, and runs nothing."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmieee.utils import UnsafeCheckpointError, parse_config_text

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('config', [
    'configs/ieee/ieee_r18_1xb16-8e_synthetic-demo.py',
    'configs/ieee/ieee_r50_1xb8-61e_rgbnt201.py',
])
def test_stored_configs_parse_to_what_mmengine_builds(config):
    text = Config.fromfile(str(REPO / config)).pretty_text
    parsed = parse_config_text(text, 'stored config')
    assert parsed.to_dict() == Config.fromstring(text, '.py').to_dict()


def test_literal_forms(tmp_path):
    text = ('a = dict(b=-1, c=[1.5, +2], d=(None, True), e={"k": b"v"})\n'
            'f = {1, 2}\n'
            "g = 'x'\n")
    cfg = parse_config_text(text, 'x')
    assert cfg.a.b == -1 and cfg.a.c == [1.5, 2] and cfg.a.d == (None, True)
    assert cfg.a.e == {'k': b'v'} and cfg.f == {1, 2} and cfg.g == 'x'


@pytest.mark.parametrize('text, line, what', [
    ('a = 1\nimport os\n', 2, 'an Import statement'),
    ('a = 1\nb = dict(\n    c=__import__("os").system("touch m"))\n', 3,
     'a function call'),
    ('model = dict(type=open)\n', 1, 'a variable name'),
    ('x = (lambda: 1)\n', 1, 'a lambda'),
    ('x = 2 ** 100000\n', 1, 'an operator'),
    ('x = [i for i in range(3)]\n', 1, 'a ListComp expression'),
    ('x = dict(**{"a": 1})\n', 1, 'dict(...) with positional or **'),
    ('x = os.environ\n', 1, 'an attribute access'),
    ('x, y = 1, 2\n', 1, 'an Assign statement instead of NAME = value'),
    ('def f():\n    pass\n', 1, 'a FunctionDef statement'),
    ('x = (\n', 1, 'text that is not Python'),
])
def test_anything_else_is_refused_naming_source_and_line(
        tmp_path, monkeypatch, text, line, what):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeCheckpointError) as err:
        parse_config_text(text, "the config stored in e.pth (meta['cfg'])",
                          hint='Give the config with --config.')
    msg = str(err.value)
    assert msg.startswith("Refusing to read the config stored in e.pth "
                          f"(meta['cfg']): line {line} holds {what}")
    assert msg.endswith('Give the config with --config.')
    assert not (tmp_path / 'm').exists()
