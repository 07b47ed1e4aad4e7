# The TransReID augmentation of transreid_256x128.py (the layout of these
# pipeline bases and each step's official counterpart are explained there) at
# 128 x 256 (h x w): DeMo's vehicles (SIZE_TRAIN = SIZE_TEST = [128, 256]).
# Only the sizes change.
_base_ = ['./transreid_256x128.py']

transreid_train_pipeline = _base_.transreid_train_pipeline
transreid_train_pipeline[1].transforms[0].scale = (256, 128)  # Resize (w, h)
transreid_train_pipeline[1].transforms[2].crop_size = (128, 256)  # (h, w)
transreid_test_pipeline = _base_.transreid_test_pipeline
transreid_test_pipeline[1].transforms[0].scale = (256, 128)
