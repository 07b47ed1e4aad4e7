# DeMo on RGBNT100 (configs/RGBNT100/DeMo.yml of github.com/924973292/DeMo):
# the optimiser of demo_adam_50e.py, 30 epochs with a 5-epoch warm-up.
_base_ = ['./demo_adam_50e.py']

lr = 3.5e-4
# replaced by the official scheduler at merge
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=False),
    dict(
        type='CosineAnnealingLR',
        T_max=25,
        eta_min=0.001 * lr,
        by_epoch=True,
        begin=5,
        end=30,
        convert_to_iter_based=False),
]
train_cfg = dict(max_epochs=30)
auto_scale_lr = dict(base_batch_size=128)
