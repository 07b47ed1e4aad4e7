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

# replaced by the official scheduler at merge
# (the official schedule: warm-up from the absolute 0.1 * lr over 10 epochs,
# cosine of the unshifted epoch index to 0.001 * lr, and learning-rate noise
# in (0.33, 1.67) seeded by the epoch; docs/demo.md). Stand-in: mmengine's
# linear warm-up and cosine, stepped per epoch.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=False),
    dict(
        type='CosineAnnealingLR',
        T_max=40,
        eta_min=0.001 * lr,
        by_epoch=True,
        begin=10,
        end=50,
        convert_to_iter_based=False),
]

# Evaluate on the test split after every epoch, as officially (EVAL_PERIOD
# 1); the reported number is the last epoch's (default_runtime.py).
train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# --auto-scale-lr: lr is scaled by (total batch size) / base_batch_size.
auto_scale_lr = dict(base_batch_size=64, enable=False)
