# Copyright (c) mmieee contributors.
"""OpenAI's TorchScript archive and Hugging Face's safetensors /
pytorch_model.bin files of the same CLIP weights give the same OpenAI-named
image-encoder state dict; the real ViT-B/16 key list maps completely."""
import json
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from mmieee.testing.clip_files import (openai_to_hf_clip,
                                       random_openai_clip_state_dict,
                                       save_openai_clip_archive)
from mmieee.utils.clip_weights import (hf_clip_to_openai_visual,
                                       load_clip_visual_weights,
                                       openai_clip_visual, read_clip_file)
from mmieee.utils.errors import NotACheckpointError

#: [key, shape] of OpenAI's ViT-B-16.pt state dict (both towers, 305
#: entries), read from the official DeMo code's CLIP class with ViT-B/16
#: geometry (``cd /work/scratch/demo && venv/bin/python make_fixtures.py``,
#: fixture clip_vit_b16_keys.json).
OPENAI_KEYS = json.loads((Path(__file__).resolve().parents[1] / 'data' /
                          'clip_vit_b16_keys.json').read_text())


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """One random CLIP in the four formats."""
    base = tmp_path_factory.mktemp('clip')
    state = random_openai_clip_state_dict(seed=3)
    paths = dict(
        openai=base / 'ViT-tiny.pt',
        openai_state_dict=base / 'state_dict.pth',
        safetensors=base / 'model.safetensors',
        bin=base / 'pytorch_model.bin')
    save_openai_clip_archive(state, str(paths['openai']))
    torch.save(state, paths['openai_state_dict'])
    hf = openai_to_hf_clip(state)
    save_file(dict(hf), str(paths['safetensors']))
    torch.save(hf, paths['bin'])
    return state, {k: str(v) for k, v in paths.items()}


def test_every_format_gives_the_openai_visual_state_dict(files):
    state, paths = files
    expected = {k: v for k, v in state.items() if k.startswith('visual.')}
    for kind, path in paths.items():
        got = load_clip_visual_weights(path)
        assert list(got) == list(expected), kind  # OpenAI's order
        for key, value in expected.items():
            assert got[key].dtype == value.dtype, (kind, key)
            assert torch.equal(got[key], value), (kind, key)
    assert expected['visual.conv1.weight'].dtype == torch.float16
    as_float = load_clip_visual_weights(paths['safetensors'],
                                        dtype=torch.float32)
    assert {v.dtype for v in as_float.values()} == {torch.float32}


def test_text_tower_and_integer_entries_are_dropped(files):
    state, paths = files
    everything = read_clip_file(paths['openai'])
    assert list(everything) == list(state)
    assert int(everything['context_length']) == 5
    visual = openai_clip_visual(everything)
    assert not any(k in visual for k in ('input_resolution',
                                         'context_length', 'vocab_size',
                                         'logit_scale', 'text_projection'))
    assert not any(k.startswith(('transformer.', 'token_embedding'))
                   for k in visual)


def test_real_vit_b16_key_list_maps_both_ways():
    """OpenAI's 305 entries (meta tensors: names and shapes only): 152
    visual weights, and Hugging Face's names of them map back exactly."""
    state = {
        key: torch.empty(shape, device='meta',
                         dtype=torch.long if key in (
                             'input_resolution', 'context_length',
                             'vocab_size') else torch.float16)
        for key, shape in OPENAI_KEYS
    }
    visual = openai_clip_visual(state, 'ViT-B-16.pt')
    assert len(visual) == 152
    assert [k for k, _ in OPENAI_KEYS if k.startswith('visual.')] == list(
        visual)
    hf = openai_to_hf_clip(state)
    assert hf['visual_projection.weight'].shape == (512, 768)
    assert hf['vision_model.encoder.layers.11.self_attn.q_proj.weight'
              ].shape == (768, 768)
    back = hf_clip_to_openai_visual(hf, 'model.safetensors')
    assert list(back) == list(visual)
    assert {k: tuple(v.shape) for k, v in back.items()} == {
        k: tuple(v.shape) for k, v in visual.items()}
    assert back['visual.transformer.resblocks.0.attn.in_proj_weight'
                ].shape == (2304, 768)
    assert back['visual.proj'].shape == (768, 512)


def test_hf_files_that_are_not_a_full_clip_vision_tower(files, tmp_path):
    state, _ = files
    hf = openai_to_hf_clip(state, vision_only=True)  # CLIPVisionModel
    with pytest.raises(NotACheckpointError, match='CLIPVisionModel'):
        hf_clip_to_openai_visual(hf, 'vision.bin')
    hf = openai_to_hf_clip(state)
    del hf['vision_model.encoder.layers.1.mlp.fc2.bias']
    with pytest.raises(NotACheckpointError) as err:
        hf_clip_to_openai_visual(hf, 'x.bin')
    assert 'vision_model.encoder.layers.1.mlp.fc2.bias' in str(err.value)
    hf = openai_to_hf_clip(state)
    hf['vision_model.encoder.layers.0.adapter.weight'] = torch.zeros(1)
    with pytest.raises(NotACheckpointError, match='adapter.weight'):
        hf_clip_to_openai_visual(hf, 'x.bin')
    hf = openai_to_hf_clip(state)
    for suffix in ('weight', 'bias'):  # the spelling without the typo
        hf[f'vision_model.pre_layernorm.{suffix}'] = hf.pop(
            f'vision_model.pre_layrnorm.{suffix}')
    assert torch.equal(hf_clip_to_openai_visual(hf)['visual.ln_pre.bias'],
                       state['visual.ln_pre.bias'])


def test_unreadable_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pt'):
        load_clip_visual_weights(str(tmp_path / 'nowhere.pt'))
    other = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, other)
    with pytest.raises(NotACheckpointError) as err:
        load_clip_visual_weights(str(other))
    assert str(other) in str(err.value) and 'vision_model.' in str(err.value)
    broken = tmp_path / 'model.safetensors'
    header = b'{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 99]}}'
    broken.write_bytes(struct.pack('<Q', len(header)) + header + b'\0' * 16)
    with pytest.raises(NotACheckpointError, match=str(broken)):
        load_clip_visual_weights(str(broken))
