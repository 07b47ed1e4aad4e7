# IEEE on RGBNT201 with two modalities, RGB + NI (the paper's Table 2
# setting, SYSU-MM01-like): two streams, CIM between them, 2 x 6 part
# classifiers, 1536-d test feature; the TI images are not read.
# Paper (Table 2, "RGB to NI / NI to RGB" column pair): mAP 40.72, R1 41.51.
_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']

modalities = ('RGB', 'NI')
model = dict(modalities=modalities)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = val_dataloader
