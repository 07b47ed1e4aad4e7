# The TransReID augmentation of transreid_256x128.py (the layout of these
# pipeline bases and each step's official counterpart are explained there) at
# 64 x 32 (h x w), the input of the scaled-down synthetic demos. Only the
# sizes change, and the padding with them (3 px instead of 10).
_base_ = ['./transreid_256x128.py']

transreid_train_pipeline = _base_.transreid_train_pipeline
transreid_train_pipeline[1].transforms[0].scale = (32, 64)  # Resize (w, h)
transreid_train_pipeline[1].transforms[2].crop_size = (64, 32)  # (h, w)
transreid_train_pipeline[1].transforms[2].padding = 3
transreid_test_pipeline = _base_.transreid_test_pipeline
transreid_test_pipeline[1].transforms[0].scale = (32, 64)
