# Copyright (c) mmieee contributors.
