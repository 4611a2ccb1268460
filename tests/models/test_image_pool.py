"""The history pool: fresh images while filling, then a fair coin between stored and fresh, at most 50 kept."""

import math

import pytest
import torch

from ganzoo.models.image_pool import ImagePool


def batch(start: int, n: int) -> torch.Tensor:
    """Images whose every pixel is their serial number, so each returned image can be traced."""
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def ids(images: torch.Tensor) -> list[int]:
    return images[:, 0, 0, 0].long().tolist()


def test_pool_fills_with_fresh_images_then_mixes_stored_and_fresh_with_probability_one_half():
    pool, g = ImagePool(50), torch.Generator().manual_seed(0)
    assert ids(pool.query(batch(0, 30), g)) == list(range(30))
    # 20 more fill it; the next 10 of this batch already meet a full pool
    out = ids(pool.query(batch(30, 30), g))
    assert out[:20] == list(range(30, 50)) and len(pool) == 50
    stored_returned, total = 0, 0
    for step in range(2, 60):
        fresh = batch(30 * step, 30)
        before = set(ids(pool.images))
        out = ids(pool.query(fresh, g))
        assert len(pool) == 50 and len(set(ids(pool.images))) == 50
        for i, image in enumerate(out):
            own = 30 * step + i
            if image != own:  # a stored image came back: it was in the pool (or stored earlier in this batch)
                assert image in before or 30 * step <= image < own
                stored_returned += 1
            total += 1
        # whatever left the pool was returned, whatever entered it was fresh
        after = set(ids(pool.images))
        assert before - after <= set(out) and after - before <= set(ids(fresh))
    p = stored_returned / total
    assert abs(p - 0.5) < 4 * math.sqrt(0.25 / total), p  # 1740 fair coins


def test_returned_batch_keeps_shape_and_pool_never_holds_more_than_capacity():
    pool, g = ImagePool(5), torch.Generator().manual_seed(1)
    for step in range(10):
        out = pool.query(batch(8 * step, 8), g)
        assert out.shape == (8, 1, 2, 2) and len(pool) == min(5, 8 * (step + 1))


def test_a_pool_holds_at_least_one_image_and_its_state_round_trips():
    g = torch.Generator().manual_seed(2)
    with pytest.raises(ValueError, match="pool_size must be a whole number >= 1"):
        ImagePool(0)
    pool = ImagePool(6)
    pool.query(batch(0, 9), g)
    copy = ImagePool(6)
    copy.load_state_dict(pool.state_dict())
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(pool.query(batch(9, 9), g1), copy.query(batch(9, 9), g2))
    assert torch.equal(pool.images, copy.images)
    with pytest.raises(ValueError, match="capacity 2"):
        ImagePool(2).load_state_dict(pool.state_dict())
