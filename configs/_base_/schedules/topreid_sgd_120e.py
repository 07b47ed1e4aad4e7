# TOP-ReID's optimisation (official solver/ and engine/processor.py): SGD,
# momentum 0.9, lr 0.009, weight decay 1e-4 on every parameter; every
# parameter whose name contains "bias" (LayerNorm biases included) at twice
# the learning rate; the BN necks' frozen biases are not trained. 120 epochs,
# the learning rate set once per epoch: linear warm-up over 10 epochs from
# 9e-5, then cosine down to 9e-6 (absolute values, the same for every group).
# Mixed precision as officially (fp16 autocast + loss scaling, GPU only):
# tools/train.py CONFIG --amp.
lr = 0.009
optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel updates every parameter (same values as the for-loop
    # implementation, docs/performance.md); set fused=False for a device
    # without fused SGD kernels.
    optimizer=dict(
        type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4, fused=True),
    paramwise_cfg=dict(custom_keys={'bias': dict(lr_mult=2.0)}))

# The official schedule, equal to it for every group at every epoch
# (mmieee/engine/schedulers/timm_cosine_lr.py; docs/train_test.md). The
# warm-up start and the floor are written as the official factory computes
# them (0.01 * lr, 0.001 * lr), so the values agree to the last bit.
param_scheduler = dict(
    type='TimmCosineLR', t_initial=120, warmup_t=10,
    warmup_lr_init=0.01 * lr, lr_min=0.001 * lr)

# Evaluate on the test split after every epoch, as officially (the reported
# number is the last epoch's, see default_runtime.py).
train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# --auto-scale-lr: lr is scaled by (total batch size) / base_batch_size.
auto_scale_lr = dict(base_batch_size=128, enable=False)
