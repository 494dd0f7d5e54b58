# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Measurement and study code behind the tools (``tools/benchmark*.py``,
``tools/study_data_efficiency.py``): imported on demand, never by
``import feather_mmdet``. Layer: on top of ``apis`` and ``deploy``."""
