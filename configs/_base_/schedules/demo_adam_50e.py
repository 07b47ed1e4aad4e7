# DeMo's official optimisation (configs/RGBNT201/DeMo.yml and
# solver/make_optimizer.py of github.com/924973292/DeMo; docs/demo.md):
# Adam (betas 0.9 / 0.999, eps 1e-8, coupled L2 weight decay 1e-4 on every
# parameter), base lr 3.5e-4; parameters whose name contains 'bias' at
# 2 x lr; the CLIP encoder at 5e-6 (its biases too: the official encoder
# rule comes after the bias rule and overrides it), except the camera
# embedding, which the official model keeps outside the encoder and trains at
# lr. One parameter group per parameter, as officially (mmengine's
# custom_keys: the longest key contained in a parameter's name wins).
# The official runs train in fp16 mixed precision with dynamic loss scaling
# (torch.cuda.amp.autocast + GradScaler): on a GPU, train with
#   python tools/train.py CONFIG --amp fp16
# (mmengine's AmpOptimWrapper, dtype float16, loss_scale 'dynamic'). The
# config itself stays fp32 so that every tool also runs it on a CPU.
lr = 3.5e-4
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='Adam', lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4),
    paramwise_cfg=dict(
        custom_keys={
            'bias': dict(lr_mult=2.0),
            # the encoder (MultiStreamBackbone with share_weights=True has
            # the one stream streams.0), absolute lr as officially
            'backbone.streams.0': dict(lr=5e-6),
            'backbone.streams.0.camera_embed': dict(lr_mult=1.0),
        }))

# The official schedule, equal to it for every group at every epoch
# (mmieee/engine/schedulers/timm_cosine_lr.py; docs/train_test.md): warm-up
# from the absolute 0.1 * lr over 10 epochs (the encoder group, below that
# start, warms down), cosine of the unshifted epoch index to 0.001 * lr, and
# learning-rate noise: each epoch's rate scaled by a factor in (0.33, 1.67)
# that depends on the epoch only (solver/scheduler_factory.py).
param_scheduler = dict(
    type='TimmCosineLR', t_initial=50, warmup_t=10,
    warmup_lr_init=0.1 * lr, lr_min=0.001 * lr,
    noise_range=(0, 50), noise_pct=0.67, noise_seed=42)

# Evaluate on the test split after every epoch, as officially (EVAL_PERIOD
# 1); the reported number is the last epoch's (default_runtime.py).
train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# --auto-scale-lr: lr is scaled by (total batch size) / base_batch_size.
auto_scale_lr = dict(base_batch_size=64, enable=False)
