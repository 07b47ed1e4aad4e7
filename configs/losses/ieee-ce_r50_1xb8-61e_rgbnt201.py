# Loss study (paper Fig. 7 a): the full IEEE model (CIM + REM) trained with
# label-smoothed CE on its 3 x 6 part classifiers only (no 3M). Everything
# else is the official recipe (ieee_r50_1xb8-61e_rgbnt201.py); CE + 3M, the
# study's fourth row (Fig. 7 d), is that config itself.
# Paper: Fig. 7 shows t-SNE plots only; no number for this setting (Table 3
# b is CE + CIM without REM).
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(head=dict(metric_losses=[]))
