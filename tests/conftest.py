import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Deterministic random init; 2 threads like the CI machine."""
    torch.manual_seed(0)
    torch.set_num_threads(2)
