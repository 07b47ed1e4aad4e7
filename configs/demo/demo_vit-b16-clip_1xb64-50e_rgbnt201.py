# DeMo on RGBNT201, the official recipe (configs/RGBNT201/DeMo.yml of
# github.com/924973292/DeMo; docs/demo.md): the shared CLIP ViT-B/16
# encoder with PIFE, HDM and ATMoE (4 heads), heads on 'moe' and 'ori'
# (DIRECT=1); 256 x 128 input, mean = std = 0.5; PIL bicubic resize, flip,
# pad 10 + random crop, random erasing 0.5 (each modality augmented on its
# own) in training, PIL bilinear resize at test time; P x K = 8 x 8; Adam
# 3.5e-4 (encoder 5e-6), 50 epochs; the official fp16 mixed precision with
# tools/train.py --amp fp16.
# Paper (RGBNT201 comparison, DeMo with the CLIP backbone): mAP 79.0, R1
# 82.3, R5 88.8, R10 92.0.
# Needs OpenAI's ViT-B-16.pt (docs/demo.md, "Pretrained weights").
_base_ = [
    '../_base_/models/demo_vit-b16-clip.py',
    '../_base_/datasets/rgbnt201.py',
    '../_base_/pipelines/transreid_256x128.py',
    '../_base_/schedules/demo_adam_50e.py',
    '../_base_/default_runtime.py',
]

# The TransReID augmentation (../_base_/pipelines/transreid_256x128.py)
train_pipeline = _base_.transreid_train_pipeline
test_pipeline = _base_.transreid_test_pipeline
train_dataloader = dict(
    batch_size=64,  # IMS_PER_BATCH
    num_workers=8,
    sampler=dict(type='IdentityBalancedSampler', num_instances=8),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# Official TEST.FEAT_NORM 'yes': features L2-normalised before the
# (squared) Euclidean distance
val_evaluator = dict(normalize_feature=True)
test_evaluator = val_evaluator

model = dict(head=dict(num_classes=171))
randomness = dict(seed=1111)  # official SOLVER.SEED
