# Copyright (c) mmieee contributors.
"""The command-line arguments the user tools share, written once.

Every tool that reads a config takes the config as a file *or* a model
name of ``configs/*/metafile.yml`` (:data:`CONFIG_HELP`) and the same
options around it: ``--cfg-options``, and for the tools that run the
Runner ``--work-dir``, ``--launcher`` and torch's ``--local-rank``.
:func:`add_common_arguments` adds them with one wording, and
:func:`parse_tool_args` parses and passes ``--local-rank`` on to the
``LOCAL_RANK`` variable as ``torch.distributed.launch`` users expect (as
mmpretrain's ``tools/train.py``).
"""
import argparse
import os
from typing import List, Optional

from mmengine.config import DictAction

from .distributed import LAUNCHERS

#: Help of the positional config argument of every tool.
CONFIG_HELP = 'config file, or a model name of configs/*/metafile.yml'


def add_common_arguments(parser: argparse.ArgumentParser,
                         work_dir: bool = False,
                         launcher: bool = False,
                         cfg_options_example: str = 'train_cfg.max_epochs=10'
                         ) -> argparse.ArgumentParser:
    """Add ``--cfg-options`` (and ``--work-dir``, ``--launcher`` /
    ``--local-rank``) to a tool's parser.

    Args:
        parser (ArgumentParser): The tool's parser.
        work_dir (bool): Add ``--work-dir``. Defaults to False.
        launcher (bool): Add ``--launcher`` and ``--local-rank``. Defaults
            to False.
        cfg_options_example (str): Shown in the ``--cfg-options`` help.

    Returns:
        ArgumentParser: ``parser``.
    """
    if work_dir:
        parser.add_argument(
            '--work-dir',
            help='folder for logs (and checkpoints); default '
            'work_dirs/<config name>')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help='override config entries with dotted keys, e.g. '
        f'{cfg_options_example}; tuples as "key=(a,b)", lists as '
        '"key=[a,b]" (no spaces)')
    if launcher:
        parser.add_argument(
            '--launcher',
            choices=LAUNCHERS,
            default='none',
            help='how the processes were started (tools/dist_*.sh: pytorch)')
        # torch.distributed.launch passes --local-rank (torchrun sets
        # LOCAL_RANK itself)
        parser.add_argument(
            '--local_rank', '--local-rank', type=int, default=0,
            help=argparse.SUPPRESS)
    return parser


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse ``argv``; ``--local-rank`` becomes ``LOCAL_RANK`` when unset."""
    args = parser.parse_args(argv)
    if hasattr(args, 'local_rank'):
        os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
