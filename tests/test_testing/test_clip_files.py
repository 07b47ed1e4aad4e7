# Copyright (c) mmieee contributors.
"""The generated CLIP files have the structure of OpenAI's real one."""
import json
from pathlib import Path

import torch

from mmieee.testing.clip_files import (clip_geometry, openai_to_hf_clip,
                                       random_openai_clip_state_dict)

OPENAI_KEYS = json.loads((Path(__file__).resolve().parents[1] / 'data' /
                          'clip_vit_b16_keys.json').read_text())


def test_random_state_dict_has_openai_names_in_openai_order():
    state = random_openai_clip_state_dict(vision_layers=12, text_layers=12)
    assert list(state) == [key for key, _ in OPENAI_KEYS]
    assert clip_geometry(state)['vision_layers'] == 12
    assert {k for k, v in state.items() if v.dtype == torch.long} == {
        'input_resolution', 'context_length', 'vocab_size'}


def test_hf_names_split_attention_and_transpose_projection():
    state = random_openai_clip_state_dict(seed=4, half=False)
    hf = openai_to_hf_clip(state)
    w = state['visual.transformer.resblocks.1.attn.in_proj_weight']
    d = w.shape[1]
    layer = 'vision_model.encoder.layers.1.self_attn.'
    assert torch.equal(hf[layer + 'q_proj.weight'], w[:d])
    assert torch.equal(hf[layer + 'k_proj.weight'], w[d:2 * d])
    assert torch.equal(hf[layer + 'v_proj.weight'], w[2 * d:])
    assert torch.equal(hf['visual_projection.weight'],
                       state['visual.proj'].t())
    assert not any(k.startswith('text_model.') for k in hf)
