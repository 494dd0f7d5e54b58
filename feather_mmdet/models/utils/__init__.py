from .dense_init import (ConversionError, ConversionReport,
                         DenseToFeatherInit, convert_dense_state_dict,
                         current_offset, find_separable_convs,
                         load_converted, normalize_dense_keys, set_depthwise,
                         set_pointwise)
from .dense_to_depthwise import (least_squares_pointwise, rank1_decompose,
                                 relative_error)
from .init_args import bind_parent_init_args

__all__ = [
    'bind_parent_init_args', 'ConversionError', 'ConversionReport',
    'DenseToFeatherInit', 'convert_dense_state_dict', 'find_separable_convs',
    'load_converted', 'set_pointwise', 'set_depthwise', 'current_offset',
    'normalize_dense_keys', 'least_squares_pointwise',
    'rank1_decompose', 'relative_error'
]
