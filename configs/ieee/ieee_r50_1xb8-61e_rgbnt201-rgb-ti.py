# IEEE on RGBNT201 with two modalities, RGB + TI (the paper's Table 2
# setting, RegDB-like): two streams, CIM between them, 2 x 6 part
# classifiers, 1536-d test feature; the NI images are not read.
# Paper (Table 2, "RGB to TI / TI to RGB" column pair): mAP 40.41, R1 40.79.
_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']

modalities = ('RGB', 'TI')
model = dict(modalities=modalities)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
