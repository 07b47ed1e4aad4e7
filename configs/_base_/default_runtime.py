# Runtime shared by every mmieee config: registry scope, hooks, logging,
# environment, visualiser, seeding.
default_scope = 'mmieee'
# mmengine's Runner with the start-up report (environment, resolved config,
# hook order) in the log file only (mmieee/engine/runner/reid_runner.py).
runner_type = 'ReIDRunner'

default_hooks = dict(
    # Iteration timing; the LogProcessor turns it into the ETA of each line.
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keep the latest checkpoint (for --resume) and the best one by mAP.
    # Published numbers are taken from the LAST epoch, not the best one:
    # choosing the best epoch on the test set (what the official code did)
    # is a form of test-set tuning; `best_reid_mAP_epoch_*.pth` is kept for
    # convenience only. ReIDCheckpointHook is mmengine's CheckpointHook that
    # writes atomically, deletes outdated files only after the new one is
    # complete, checks its arguments when built and records the modalities.
    checkpoint=dict(
        type='ReIDCheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_last=True,
        save_best='reid/mAP',
        rule='greater'),
    # Calls `set_epoch` on the training sampler (IdentityBalancedSampler)
    # so that each epoch draws a new, seed-determined batch composition.
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Rank lists of the test queries; `tools/test.py --show-dir DIR`
    # enables it (mmieee/engine/hooks/reid_visualization_hook.py).
    visualization=dict(type='ReIDVisualizationHook', enable=False),
)

custom_hooks = [
    # Re-seeds the generators at every epoch start from (seed, epoch), so a
    # run resumed with --resume draws the same augmentations as an
    # uninterrupted one (mmieee/engine/hooks/epoch_seed_hook.py).
    dict(type='EpochSeedHook'),
    # Multi-process training: average the BatchNorm running statistics of
    # all ranks after each epoch, so that validation on every rank and the
    # saved checkpoint (rank 0's) use the same statistics. No-op otherwise.
    dict(type='SyncBuffersHook'),
    # Stops at once when the training set has more identities than
    # model.head.num_classes (warns when fewer).
    dict(type='NumClassesCheckHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # On a machine without a GPU, the tools switch this to 'gloo'
    # (mmieee.utils.setup_distributed). A collective that waits longer than
    # `timeout` seconds (a frozen rank) ends the job instead of hanging for
    # torch's default 30 minutes; raise it if one rank legitimately works
    # alone for longer (e.g. evaluating a very large gallery).
    dist_cfg=dict(backend='nccl', timeout=600),
)

log_processor = dict(by_epoch=True, window_size=50)

# Scalars (and pictures) go to every backend listed here; TensorBoard / W&B:
# add dict(type='TensorboardVisBackend') / dict(type='WandbVisBackend')
# (docs/visualization.md).
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ReIDVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False

# `deterministic=True` makes --resume bit-exact (at some speed cost on GPU).
randomness = dict(seed=0, diff_rank_seed=False, deterministic=False)
