# Copyright (c) mmieee contributors.
"""Metafile model names in init_model."""
import pytest
import torch

from mmieee.apis import init_model, list_models, resolve_model
from mmieee.utils.model_index import REPO_ROOT

DEMO = 'ieee_r18_1xb16-8e_synthetic-demo'


def test_every_metafile_model_resolves_to_its_config():
    names = list_models()
    assert DEMO in names and 'ieee_r50_1xb8-61e_rgbnt201' in names
    for name in names:
        config, weights = resolve_model(name, 'w.pth')
        assert config.startswith(str(REPO_ROOT / 'configs')), config
        assert config.endswith(f'{name}.py') and weights == 'w.pth'


def test_init_model_takes_a_name_and_local_weights(tiny_cfg, tmp_path,
                                                   monkeypatch):
    """The demo name + a local file (the demo model shrunk by cfg_options
    to keep the test fast; the name is what is resolved)."""
    monkeypatch.chdir(tmp_path)  # 'local_weights.pth' relative, as a user
    cfg = tiny_cfg(str(tmp_path))
    tiny_cfg.save_weights(cfg, tmp_path / 'local_weights.pth', seed=3)
    model = init_model(DEMO, 'local_weights.pth',
                       cfg_options={'model': cfg.model})
    saved = torch.load('local_weights.pth', weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert model.cfg.filename.endswith(f'configs/ieee/{DEMO}.py')


def test_unknown_name_and_missing_weights_are_errors():
    # every metafile is listed (the list grows with the algorithms)
    with pytest.raises(ValueError, match=r"'ieee_r18_1xb16-8e_synthetic' is "
                       r'neither a config file nor a model name of '
                       r'(configs/[\w-]+/metafile.yml, )*configs/ieee/'
                       r'metafile.yml, (configs/[\w-]+/metafile.yml, )*'
                       r'configs/topreid/metafile.yml. Did you mean '
                       r'ieee_r18_1xb16-8e_synthetic-demo'):
        init_model('ieee_r18_1xb16-8e_synthetic', 'w.pth')
    with pytest.raises(ValueError, match=rf"model '{DEMO}' has no published "
                       r'weights .*pass a local checkpoint'):
        init_model(DEMO)
    # paths are not names: a missing config file stays a file error
    with pytest.raises(FileNotFoundError):
        init_model('configs/ieee/nope.py')
