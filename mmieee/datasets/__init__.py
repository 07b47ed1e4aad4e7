# Copyright (c) mmieee contributors.
from .base_multimodal_dataset import BaseMultiModalReIDDataset  # noqa: F401
from .folder_dataset import MultiModalFolderDataset  # noqa: F401
from .layout import DatasetLayout  # noqa: F401
from .market1501_mm import Market1501MM  # noqa: F401
from .msvr310 import MSVR310  # noqa: F401
from .rgbnt100 import RGBNT100  # noqa: F401
from .rgbnt201 import RGBNT201  # noqa: F401
from .samplers import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
from .wmveid863 import WMVEID863  # noqa: F401
