# Copyright (c) mmieee contributors.
"""CLIP weight files in OpenAI's and Hugging Face's formats, written from a
given state dict: what the tests of the CLIP weight readers (and of models
initialised from CLIP) read, since the real 300 MB files cannot ship.

* :func:`save_openai_clip_archive` writes a TorchScript archive with the
  module structure of OpenAI's ``ViT-B-16.pt`` (attribute names and order
  of OpenAI's ``clip/model.py``: ``visual.conv1``, ``visual.class_embedding``,
  ``visual.transformer.resblocks.N.attn`` (``nn.MultiheadAttention``), the
  text tower, and the integer buffers ``input_resolution``,
  ``context_length``, ``vocab_size``), each tensor in the dtype given.
* :func:`openai_to_hf_clip` renames an OpenAI state dict to Hugging Face's
  ``CLIPModel`` names as Hugging Face's
  ``convert_clip_original_pytorch_to_hf.py`` does (``in_proj`` split into
  q / k / v, ``proj`` transposed into ``visual_projection.weight``).
* :func:`random_openai_clip_state_dict` makes a small random one.
"""
import collections
import warnings
from typing import Dict, List, Mapping

import torch
from torch import nn


class _ResidualAttentionBlock(nn.Module):

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            collections.OrderedDict([('c_fc', nn.Linear(width, width * 4)),
                                     ('gelu', nn.GELU()),
                                     ('c_proj', nn.Linear(width * 4,
                                                          width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class _Transformer(nn.Module):

    def __init__(self, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.resblocks = nn.Sequential(
            *[_ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class _VisionTransformer(nn.Module):

    def __init__(self, resolution: int, patch: int, width: int, layers: int,
                 heads: int, embed_dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(
            torch.zeros((resolution // patch)**2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = _Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.zeros(width, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x).flatten(2).permute(0, 2, 1)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x).permute(1, 0, 2))
        return self.ln_post(x[0]) @ self.proj


class _OpenAICLIP(nn.Module):
    """OpenAI's ``CLIP`` module structure (only what its state dict shows).
    """

    def __init__(self, geometry: Dict[str, int]) -> None:
        super().__init__()
        g = geometry
        self.visual = _VisionTransformer(g['resolution'], g['patch'],
                                         g['vision_width'],
                                         g['vision_layers'],
                                         g['vision_heads'], g['embed_dim'])
        self.transformer = _Transformer(g['text_width'], g['text_layers'],
                                        g['text_heads'])
        self.token_embedding = nn.Embedding(g['vocab_size'], g['text_width'])
        self.positional_embedding = nn.Parameter(
            torch.zeros(g['context_length'], g['text_width']))
        self.ln_final = nn.LayerNorm(g['text_width'])
        self.text_projection = nn.Parameter(
            torch.zeros(g['text_width'], g['embed_dim']))
        self.logit_scale = nn.Parameter(torch.zeros([]))
        for name in ('input_resolution', 'context_length', 'vocab_size'):
            self.register_buffer(name, torch.zeros([], dtype=torch.long))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.visual(image) * self.logit_scale.exp()


def clip_geometry(state: Mapping[str, torch.Tensor]) -> Dict[str, int]:
    """Sizes of a CLIP model, read from its OpenAI-named state dict."""

    def count(prefix: str) -> int:
        return len({k.split('.')[3] for k in state if k.startswith(prefix)})

    vision_width, _, patch, _ = state['visual.conv1.weight'].shape
    tokens = state['visual.positional_embedding'].shape[0]
    grid = int(round((tokens - 1)**0.5))
    text_width = state['ln_final.weight'].shape[0]
    return dict(
        resolution=grid * patch,
        patch=patch,
        vision_width=vision_width,
        vision_layers=count('visual.transformer.resblocks.'),
        vision_heads=max(1, vision_width // 64),
        embed_dim=state['visual.proj'].shape[1],
        text_width=text_width,
        text_layers=len({k.split('.')[2] for k in state
                         if k.startswith('transformer.resblocks.')}),
        text_heads=max(1, text_width // 64),
        vocab_size=state['token_embedding.weight'].shape[0],
        context_length=state['positional_embedding'].shape[0])


def random_openai_clip_state_dict(
        seed: int = 0,
        vision_width: int = 16,
        vision_layers: int = 2,
        patch: int = 4,
        resolution: int = 8,
        embed_dim: int = 8,
        text_width: int = 8,
        text_layers: int = 1,
        vocab_size: int = 11,
        context_length: int = 5,
        half: bool = True) -> 'collections.OrderedDict[str, torch.Tensor]':
    """A random OpenAI-named CLIP state dict, keys in OpenAI's order.

    Args:
        seed (int): Seed of the values.
        half (bool): float16 for the tensors OpenAI's released files keep in
            float16 (convolution, linear, attention and projection weights),
            as OpenAI's ``convert_weights`` leaves them. Defaults to True.
        Others: the sizes (heads = width // 64, at least 1).

    Returns:
        OrderedDict[str, Tensor]: Including the three integer entries
        ``input_resolution``, ``context_length``, ``vocab_size``.
    """
    geometry = dict(
        resolution=resolution, patch=patch, vision_width=vision_width,
        vision_layers=vision_layers, vision_heads=max(1, vision_width // 64),
        embed_dim=embed_dim, text_width=text_width, text_layers=text_layers,
        text_heads=max(1, text_width // 64), vocab_size=vocab_size,
        context_length=context_length)
    generator = torch.Generator().manual_seed(seed)
    out = collections.OrderedDict()
    for key, value in _OpenAICLIP(geometry).state_dict().items():
        if value.dtype == torch.long:
            out[key] = torch.tensor(dict(
                input_resolution=resolution, context_length=context_length,
                vocab_size=vocab_size)[key])
            continue
        tensor = torch.randn(value.shape, generator=generator)
        if half and _openai_half(key):
            tensor = tensor.half()
        out[key] = tensor
    return out


def _openai_half(key: str) -> bool:
    """Whether OpenAI's ``convert_weights`` makes ``key`` float16."""
    leaf = key.rsplit('.', 1)[-1]
    if leaf in ('text_projection', 'proj'):
        return True
    if '.attn.' in key:
        return leaf in ('in_proj_weight', 'in_proj_bias', 'weight', 'bias')
    return key.endswith(('conv1.weight', 'c_fc.weight', 'c_fc.bias',
                         'c_proj.weight', 'c_proj.bias'))


def save_openai_clip_archive(state: Mapping[str, torch.Tensor],
                             path: str,
                             trace: bool = False) -> nn.Module:
    """Write ``state`` as a TorchScript archive shaped like OpenAI's files.

    Args:
        state (Mapping[str, Tensor]): OpenAI names, sizes as
            :func:`clip_geometry` reads them; each tensor keeps its dtype.
        path (str): Output file.
        trace (bool): ``torch.jit.trace`` (as OpenAI's files were made)
            instead of ``torch.jit.script``; needs float32 weights.

    Returns:
        nn.Module: The scripted / traced module that was saved (its
        ``state_dict()`` is the reference).
    """
    model = _OpenAICLIP(clip_geometry(state))
    own = dict(model.named_parameters())
    own.update(model.named_buffers())
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    if missing or extra:
        raise KeyError(f'not an OpenAI CLIP state dict: missing {missing}, '
                       f'unexpected {extra}')
    with torch.no_grad():
        for key, value in state.items():
            own[key].data = value.detach().clone()
    if trace:
        size = model.visual.positional_embedding.shape[0] - 1
        side = int(round(size**0.5)) * model.visual.conv1.kernel_size[0]
        with warnings.catch_warnings():  # shape checks traced as constants
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            module = torch.jit.trace(model, torch.zeros(1, 3, side, side))
    else:
        module = torch.jit.script(model)
    torch.jit.save(module, path)
    return module


def openai_to_hf_clip(state: Mapping[str, torch.Tensor],
                      vision_only: bool = False
                      ) -> 'collections.OrderedDict[str, torch.Tensor]':
    """Hugging Face ``CLIPModel`` names for an OpenAI CLIP state dict.

    Only the vision tower, its projection and ``logit_scale`` are renamed;
    the text tower is dropped (the readers ignore it).

    Args:
        state (Mapping[str, Tensor]): OpenAI names.
        vision_only (bool): Leave out ``visual_projection.weight`` (what a
            ``CLIPVisionModel`` file holds).

    Returns:
        OrderedDict[str, Tensor]: Hugging Face names, plus the
        ``vision_model.embeddings.position_ids`` buffer older files have.
    """
    out = collections.OrderedDict()
    out['logit_scale'] = state['logit_scale']
    emb = 'vision_model.embeddings.'
    out[emb + 'class_embedding'] = state['visual.class_embedding']
    out[emb + 'patch_embedding.weight'] = state['visual.conv1.weight']
    positions = state['visual.positional_embedding']
    out[emb + 'position_embedding.weight'] = positions
    out[emb + 'position_ids'] = torch.arange(
        positions.shape[0], device=positions.device)[None]
    out['vision_model.pre_layrnorm.weight'] = state['visual.ln_pre.weight']
    out['vision_model.pre_layrnorm.bias'] = state['visual.ln_pre.bias']
    blocks: List[int] = sorted({
        int(k.split('.')[3]) for k in state
        if k.startswith('visual.transformer.resblocks.')})
    for i in blocks:
        src = f'visual.transformer.resblocks.{i}.'
        dst = f'vision_model.encoder.layers.{i}.'
        for kind in ('weight', 'bias'):
            q, k, v = state[f'{src}attn.in_proj_{kind}'].chunk(3, dim=0)
            out[f'{dst}self_attn.k_proj.{kind}'] = k.clone()
            out[f'{dst}self_attn.v_proj.{kind}'] = v.clone()
            out[f'{dst}self_attn.q_proj.{kind}'] = q.clone()
        for theirs, ours in (('self_attn.out_proj', 'attn.out_proj'),
                             ('layer_norm1', 'ln_1'), ('mlp.fc1', 'mlp.c_fc'),
                             ('mlp.fc2', 'mlp.c_proj'),
                             ('layer_norm2', 'ln_2')):
            for kind in ('weight', 'bias'):
                out[f'{dst}{theirs}.{kind}'] = state[f'{src}{ours}.{kind}']
    out['vision_model.post_layernorm.weight'] = state['visual.ln_post.weight']
    out['vision_model.post_layernorm.bias'] = state['visual.ln_post.bias']
    if not vision_only:
        out['visual_projection.weight'] = state[
            'visual.proj'].t().contiguous()
    return out
