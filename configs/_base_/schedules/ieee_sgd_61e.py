# Official IEEE schedule (paper § Implementation Details; DESIGN §5): SGD
# lr 1e-3, momentum 0.9, Nesterov, weight decay 5e-4 on all parameters; the
# learning rate drops x0.1 after epochs 20 and 40; 61 epochs in total.
optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel updates every parameter (same values as the
    # for-loop implementation; a 12 % faster demo training step on CPU,
    # docs/performance.md). A torch without fused SGD kernels for the
    # device refuses it: set optim_wrapper.optimizer.fused=False there.
    optimizer=dict(
        type='SGD', lr=1e-3, momentum=0.9, nesterov=True,
        weight_decay=5e-4, fused=True))

param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[20, 40], gamma=0.1)

# Evaluate on the test split after every epoch (cheap: 836 triplets); the
# reported number is the last epoch's (see default_runtime.py).
train_cfg = dict(by_epoch=True, max_epochs=61, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# --auto-scale-lr: lr is scaled by (total batch size) / base_batch_size.
auto_scale_lr = dict(base_batch_size=8, enable=False)
