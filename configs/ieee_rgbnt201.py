# The config the README tells users about: IEEE on RGBNT201 with the official
# recipe. Everything is defined in ieee/ieee_r50_1xb8-61e_rgbnt201.py.
#   python tools/train.py configs/ieee_rgbnt201.py
#   bash tools/dist_train.sh configs/ieee_rgbnt201.py 4
_base_ = ['./ieee/ieee_r50_1xb8-61e_rgbnt201.py']
