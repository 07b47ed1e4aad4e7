# Demo of ieee_r50_1xb8-61e_rgbnt201-rgb-ti.py (Table 2 setting: RGB + TI
# only, two streams, 2 x 4 part classifiers, 512-d test feature) on the
# scaled-down demo model and the synthetic set
# (ieee_r18_1xb16-8e_synthetic-demo.py).
_base_ = ['./ieee_r18_1xb16-8e_synthetic-demo.py']

modalities = ('RGB', 'TI')
model = dict(modalities=modalities)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
