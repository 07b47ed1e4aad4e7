# Copyright (c) mmieee contributors.
"""The TOP-ReID demo config learns: a test-sized run of it (fewer synthetic
identities and epochs than the documented demo run,
configs/topreid/README.md) ranks held-out identities far above chance."""
import numpy as np

import mmieee  # noqa: F401
from mmieee.testing.synthetic import generate_synthetic_dataset
from mmieee.utils import build_runner, load_tool_config

DEMO = 'configs/topreid/topreid_vit-tiny_1xb32-30e_synthetic-demo.py'
EPOCHS = 20


def _chance_map(pids, camids) -> float:
    """mAP of random rankings under the same-id same-camera exclusion
    (20 random permutations of each query's gallery; about 13.5 for this
    set)."""
    rng = np.random.default_rng(0)
    aps = []
    for q in range(len(pids)):
        keep = ~((pids == pids[q]) & (camids == camids[q]))
        match = (pids[keep] == pids[q])
        for _ in range(20):
            hits = match[rng.permutation(len(match))]
            ranks = np.flatnonzero(hits) + 1
            aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    return 100 * float(np.mean(aps))


def test_demo_config_learns_in_a_short_run(tmp_path):
    root = generate_synthetic_dataset(
        str(tmp_path / 'data'), num_train_ids=16, num_test_ids=8,
        num_cameras=2, images_per_id_per_camera=3, height=128,
        width=64)['root']
    options = {
        f'{split}_dataloader.{key}': value
        for split in ('train', 'val', 'test')
        for key, value in (('dataset.data_root', root), ('num_workers', 0))
    }
    options.update({
        'model.head.num_classes': 16,
        'model.backbone.backbone.num_cameras': 2,
        'train_cfg.max_epochs': EPOCHS,
        'train_cfg.val_interval': EPOCHS,
        'param_scheduler.1.T_max': EPOCHS - 2,
        'param_scheduler.1.end': EPOCHS,
        'default_hooks.logger.interval': 1,
    })
    cfg = load_tool_config(DEMO, options, work_dir=str(tmp_path / 'work'))
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.test()
    dataset = runner.test_dataloader.dataset
    pids = np.array([dataset.get_data_info(i)['pid']
                     for i in range(len(dataset))])
    camids = np.array([dataset.get_data_info(i)['camid']
                       for i in range(len(dataset))])
    chance = _chance_map(pids, camids)
    assert metrics['reid/mAP'] > 3 * chance, (metrics, chance)
    assert metrics['reid/R5'] > 60, metrics
