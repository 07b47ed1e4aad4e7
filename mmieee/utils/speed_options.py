# Copyright (c) mmieee contributors.
"""Training speed options: what each one changes in a config, and whether a
device can run it.

``tools/train.py`` (``--amp``, ``--compile``) and
``tools/analysis_tools/benchmark_train.py`` (``--amp``, ``--channels-last``,
``--compile``) both go through :func:`apply_speed_options`, so the benchmark
measures exactly the configuration that training runs. Each option is a
plain config entry, usable without these tools:

* AMP: ``optim_wrapper.type='AmpOptimWrapper'`` with ``dtype`` ``'float16'``
  (dynamic loss scaling) or ``'bfloat16'`` -- mmengine's mixed-precision
  wrapper, which only runs on a GPU (or NPU / MLU / MUSA);
* channels-last: ``model.backbone.channels_last=True``
  (:class:`~mmieee.models.backbones.MultiStreamBackbone` stores its streams'
  weights and feeds their inputs in channels-last memory format);
* ``torch.compile``: ``compile=True`` (or a dict of ``torch.compile``
  arguments), read by mmengine's Runner, which compiles ``train_step``.

:func:`check_speed_options` refuses, with the reason, an option the device
cannot run; the tools turn its :class:`ConfigError` into ``Error: ...``.
"""
import importlib.util
import os
import shutil
from typing import Optional

import torch
from mmengine.config import Config

from .errors import ConfigError

#: ``--amp`` choices → ``AmpOptimWrapper(dtype=...)``.
AMP_DTYPES = {'fp16': 'float16', 'bf16': 'bfloat16'}

#: Backbone types that take ``channels_last``.
CHANNELS_LAST_BACKBONES = ('MultiStreamBackbone', 'mmieee.MultiStreamBackbone')

_CXX_NAMES = ('g++', 'clang++', 'c++')


def apply_speed_options(cfg: Config,
                        amp: Optional[str] = None,
                        channels_last: bool = False,
                        compile: bool = False) -> Config:
    """Switch on speed options in a config (in place).

    Args:
        cfg (Config): A full training config.
        amp (str, optional): ``'fp16'`` or ``'bf16'``: mixed precision with
            mmengine's ``AmpOptimWrapper`` (dynamic loss scaling; harmless
            for bf16). None: off. Defaults to None.
        channels_last (bool): Channels-last streams and inputs
            (``model.backbone.channels_last``). Defaults to False.
        compile (bool): ``torch.compile`` the train step (``cfg.compile``;
            an existing dict of compile arguments is kept). Defaults to
            False.

    Returns:
        Config: ``cfg``.

    Raises:
        ConfigError: An unknown ``amp`` value, or ``channels_last`` with a
            backbone that has no such option.
    """
    if amp is not None:
        if amp not in AMP_DTYPES:
            raise ConfigError(f'--amp {amp!r}: expected one of '
                              f'{sorted(AMP_DTYPES)}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = AMP_DTYPES[amp]
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if channels_last:
        backbone_type = cfg.model.get('backbone', {}).get('type')
        if backbone_type not in CHANNELS_LAST_BACKBONES:
            raise ConfigError(
                f'--channels-last sets model.backbone.channels_last, which '
                f'only {CHANNELS_LAST_BACKBONES[0]} has; this config\'s '
                f'model.backbone.type is {backbone_type!r}')
        cfg.model.backbone.channels_last = True
    if compile and not cfg.get('compile'):
        cfg.compile = True
    return cfg


def find_cxx() -> Optional[str]:
    """The C++ compiler ``torch.compile``'s CPU backend would use: ``$CXX``
    or the first of g++ / clang++ / c++ on ``PATH`` (None if none)."""
    cxx = os.environ.get('CXX')
    if cxx:
        return shutil.which(cxx)
    for name in _CXX_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def check_speed_options(device: str,
                        amp: Optional[str] = None,
                        compile: bool = False,
                        cuda_available: Optional[bool] = None,
                        bf16_supported: Optional[bool] = None,
                        cxx: Optional[str] = 'auto',
                        triton_available: Optional[bool] = None) -> None:
    """Refuse a device or option the machine cannot run, saying why.

    The keyword arguments after ``compile`` describe the machine; None
    (``'auto'`` for ``cxx``) detects it. Tests pass them explicitly.

    Args:
        device (str): ``'cpu'`` or ``'cuda'`` (``'cuda:N'`` too).
        amp (str, optional): ``'fp16'``, ``'bf16'`` or None.
        compile (bool): ``torch.compile`` requested.
        cuda_available (bool, optional): ``torch.cuda.is_available()``.
        bf16_supported (bool, optional): ``torch.cuda.is_bf16_supported()``.
        cxx (str, optional): Path of the C++ compiler (None: there is
            none); ``'auto'``: :func:`find_cxx`.
        triton_available (bool, optional): Whether ``triton`` imports.

    Raises:
        ConfigError: The first problem found, with its reason.
    """
    kind = device.split(':')[0]
    if kind not in ('cpu', 'cuda'):
        raise ConfigError(f'--device {device!r}: expected cpu or cuda')
    if kind == 'cuda':
        if cuda_available is None:
            cuda_available = torch.cuda.is_available()
        if not cuda_available:
            build = ('a CPU-only build' if torch.version.cuda is None else
                     f'built for CUDA {torch.version.cuda}, but no GPU is '
                     'visible')
            raise ConfigError(
                f'--device {device}: CUDA is not available (torch '
                f'{torch.__version__} is {build})')
    if amp is not None:
        if amp not in AMP_DTYPES:
            raise ConfigError(f'--amp {amp!r}: expected one of '
                              f'{sorted(AMP_DTYPES)}')
        if kind == 'cpu':
            raise ConfigError(
                f'--amp {amp} on cpu: mixed-precision training uses '
                "mmengine's AmpOptimWrapper, which refuses to run without a "
                'GPU (NPU/MLU/MUSA); train in float32 on CPU')
        if amp == 'bf16':
            if bf16_supported is None:
                bf16_supported = torch.cuda.is_bf16_supported()
            if not bf16_supported:
                raise ConfigError(
                    f'--amp bf16 on {device}: this GPU has no bfloat16 '
                    'support (torch.cuda.is_bf16_supported() is False); '
                    'use --amp fp16')
    if compile:
        if not hasattr(torch, 'compile'):
            raise ConfigError(f'--compile: torch {torch.__version__} has no '
                              'torch.compile (it needs torch >= 2.0)')
        if kind == 'cpu':
            if cxx == 'auto':
                cxx = find_cxx()
            if not cxx:
                raise ConfigError(
                    '--compile on cpu: torch.compile (inductor) generates '
                    'C++ and no C++ compiler was found ($CXX, g++, clang++ '
                    'or c++ on PATH); install one, e.g. apt-get install g++')
        else:
            if triton_available is None:
                triton_available = \
                    importlib.util.find_spec('triton') is not None
            if not triton_available:
                raise ConfigError(
                    f'--compile on {device}: torch.compile (inductor) needs '
                    'the triton package for GPU kernels and it is not '
                    'installed (pip install triton, matching your torch)')
