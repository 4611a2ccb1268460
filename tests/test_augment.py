"""AffineJitter: torchvision's affine per image, in one batched resampling, with draws from a given generator."""

import pytest
import torch
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from ganzoo.augment import AffineJitter


def images(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (3, 2, 20, 32)], ids=["square", "wide, 2 channels"])
def test_jitter_equals_torchvision_affine_of_each_image_with_its_draw(shape: tuple[int, ...]) -> None:
    x = images(*shape)
    jitter = AffineJitter(degrees=25, translate=0.2, scale=0.3)
    out = jitter(x, torch.Generator().manual_seed(1))
    draws = jitter.draw(len(x), torch.Generator().manual_seed(1))  # the same generator state: the same draws
    height, width = shape[-2:]
    expected = torch.stack(
        [
            TF.affine(image + 1, angle=angle, translate=[dx * width, dy * height], scale=zoom, shear=[0.0, 0.0],
                      interpolation=InterpolationMode.BILINEAR) - 1
            for image, (angle, dx, dy, zoom) in zip(x, draws.tolist(), strict=True)
        ]
    )  # fmt: skip
    assert out.shape == x.shape and torch.allclose(out, expected, atol=1e-4)
    assert not torch.allclose(out, x, atol=0.1)


def test_no_range_is_the_identity_and_a_black_image_stays_black() -> None:
    x = images(4, 1, 28, 28)
    assert torch.allclose(AffineJitter()(x, torch.Generator().manual_seed(0)), x, atol=1e-5)
    black = torch.full((8, 1, 28, 28), -1.0)
    moved = AffineJitter(degrees=45, translate=0.3, scale=0.5)(black, torch.Generator().manual_seed(0))
    assert torch.equal(moved, black)  # the uncovered border is filled with -1, not 0


def test_draws_stay_in_their_ranges_and_take_four_numbers_per_image() -> None:
    jitter = AffineJitter(degrees=10, translate=0.1, scale=0.2)
    generator = torch.Generator().manual_seed(3)
    draws = jitter.draw(1000, generator)
    assert draws[:, 0].abs().max() <= 10 and draws[:, 0].abs().max() > 9  # the range is used, not exceeded
    assert draws[:, 1:3].abs().max() <= 0.1 and draws[:, 1:3].abs().max() > 0.09
    assert draws[:, 3].min() >= 0.8 and draws[:, 3].max() <= 1.2 and (draws[:, 3] - 1).abs().max() > 0.19
    # a fixed consumption of the stream, whatever the ranges: what comes next does not depend on them
    replay = torch.Generator().manual_seed(3)
    torch.rand(1000, 4, generator=replay)
    assert torch.equal(torch.rand(3, generator=generator), torch.rand(3, generator=replay))


def test_a_shift_moves_a_dot_and_a_rotation_turns_a_bar_by_the_drawn_amounts() -> None:
    coords = torch.arange(28.0)
    dots = torch.full((3, 1, 28, 28), -1.0)
    dots[:, :, 14, 14] = 1.0
    shift = AffineJitter(translate=0.1)
    draws = shift.draw(3, torch.Generator().manual_seed(1))
    mass = shift(dots, torch.Generator().manual_seed(1)).add(1).squeeze(1)
    centre_x = (mass.sum(1) * coords).sum(1) / mass.sum((1, 2))
    centre_y = (mass.sum(2) * coords).sum(1) / mass.sum((1, 2))
    assert torch.allclose(centre_x - 14, draws[:, 1] * 28, atol=1e-3)  # right for positive dx
    assert torch.allclose(centre_y - 14, draws[:, 2] * 28, atol=1e-3)  # down for positive dy
    bars = torch.full((4, 1, 28, 28), -1.0)
    bars[:, :, 14, 6:22] = 1.0
    rotate = AffineJitter(degrees=30)
    angles = rotate.draw(4, torch.Generator().manual_seed(2))[:, 0]
    mass = rotate(bars, torch.Generator().manual_seed(2)).add(1).squeeze(1)
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    mean_x, mean_y = (mass * xs).sum((1, 2)) / mass.sum((1, 2)), (mass * ys).sum((1, 2)) / mass.sum((1, 2))
    dx, dy = xs - mean_x[:, None, None], ys - mean_y[:, None, None]
    cxx, cyy, cxy = ((mass * d).sum((1, 2)) for d in (dx * dx, dy * dy, dx * dy))
    measured = torch.rad2deg(0.5 * torch.atan2(2 * cxy, cxx - cyy))  # y points down: clockwise on screen
    assert angles.abs().gt(1).all() and torch.allclose(measured, angles, atol=0.5)


def test_a_zoom_scales_a_square_by_the_drawn_factor() -> None:
    squares = torch.full((4, 1, 28, 28), -1.0)
    squares[:, :, 10:18, 10:18] = 1.0  # an 8 x 8 square about the centre
    zoom = AffineJitter(scale=0.4)
    factors = zoom.draw(4, torch.Generator().manual_seed(5))[:, 3]
    area = zoom(squares, torch.Generator().manual_seed(5)).add(1).div(2).sum((1, 2, 3))
    assert torch.allclose(area, 64 * factors**2, rtol=0.02)


@pytest.mark.parametrize(
    "bad", [{"degrees": -1.0}, {"translate": 1.0}, {"translate": -0.1}, {"scale": 1.5}, {"scale": float("nan")}]
)
def test_ranges_out_of_bounds_are_refused_by_name(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"model\.source_augment needs"):
        AffineJitter(**bad)
