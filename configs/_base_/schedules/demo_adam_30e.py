# DeMo on RGBNT100 (configs/RGBNT100/DeMo.yml of github.com/924973292/DeMo):
# the optimiser of demo_adam_50e.py, 30 epochs with a 5-epoch warm-up and the
# noise over all 30 epochs.
_base_ = ['./demo_adam_50e.py']

lr = 3.5e-4
param_scheduler = dict(
    type='TimmCosineLR', t_initial=30, warmup_t=5,
    warmup_lr_init=0.1 * lr, lr_min=0.001 * lr,
    noise_range=(0, 30), noise_pct=0.67, noise_seed=42)
train_cfg = dict(max_epochs=30)
auto_scale_lr = dict(base_batch_size=128)
