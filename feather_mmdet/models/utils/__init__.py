from .dense_to_feather import (ConversionError, ConversionReport,
                               DenseToFeatherInit, convert_dense_state_dict,
                               load_converted)
from .init_args import bind_parent_init_args

__all__ = [
    'bind_parent_init_args', 'ConversionError', 'ConversionReport',
    'DenseToFeatherInit', 'convert_dense_state_dict', 'load_converted'
]
