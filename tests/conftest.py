# Copyright (c) mmieee contributors.
"""Suite-wide settings.

One torch thread per test process: the suite runs with one pytest-xdist
worker per core, and the tiny models in the tests are far slower when two
workers each start two threads on two cores (measured: ~5 s instead of ~25 ms
for a ResNet-18 forward under load).
"""
import torch

torch.set_num_threads(1)
