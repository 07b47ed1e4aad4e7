# Copyright (c) mmieee contributors.
"""--resume: a run killed mid-training and resumed ends with exactly the
weights of an uninterrupted run (same seed, deterministic mode).

Without EpochSeedHook (configs/_base_/default_runtime.py) this fails: the
resumed run draws epoch 2's random flips from freshly seeded generators
(measured: 448 of 537 state-dict tensors differ)."""
import torch

# Registered into mmieee's HOOKS by `custom_imports`; kills the process
# (no cleanup, like a lost node) after the given global iteration.
KILL_HOOK = '''
import os
from mmengine.hooks import Hook
from mmieee.registry import HOOKS


@HOOKS.register_module()
class KillAfterIterHook(Hook):

    def __init__(self, num_iters):
        self.num_iters = num_iters

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 >= self.num_iters:
            os._exit(3)
'''


def test_killed_then_resumed_equals_uninterrupted(tools, tiny_config,
                                                  trained_run, tmp_path):
    (tmp_path / 'kill_hook.py').write_text(KILL_HOOK)
    # The tiny run has 3 iterations per epoch: die in the middle of epoch 2
    # (after iteration 5), when epoch_1.pth is the latest checkpoint.
    killing = tmp_path / 'killing.py'
    killing.write_text(
        f'_base_ = [{str(tiny_config)!r}]\n'
        "custom_imports = dict(imports=['kill_hook'])\n"
        "custom_hooks = [dict(type='EpochSeedHook'), "
        "dict(type='SyncBuffersHook'), "
        "dict(type='KillAfterIterHook', num_iters=5)]\n")
    env = tools.env()
    env['PYTHONPATH'] = f'{tmp_path}:{env["PYTHONPATH"]}'
    work_dir = tmp_path / 'w'
    proc = tools.run(['tools/train.py', killing, '--work-dir', work_dir],
                     check=False, env=env)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert (work_dir / 'epoch_1.pth').exists()
    assert not (work_dir / 'epoch_2.pth').exists()
    first = torch.load(work_dir / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']

    tools.run(
        ['tools/train.py', tiny_config, '--work-dir', work_dir, '--resume'])
    resumed = torch.load(work_dir / 'epoch_2.pth', map_location='cpu',
                         weights_only=False)
    straight = torch.load(trained_run / 'epoch_2.pth', map_location='cpu',
                          weights_only=False)
    assert resumed['meta']['epoch'] == straight['meta']['epoch'] == 2
    a, b = resumed['state_dict'], straight['state_dict']
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'{len(different)} tensors differ: {different[:5]}'
    # and the training really moved the weights after the restart
    assert not all(torch.equal(first[k], a[k]) for k in a)
