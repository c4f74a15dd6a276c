"""The shared transformer-engine machinery: chunking, pooling, devices, loading errors, images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from config.exceptions import ModelNotAvailable
from recsys.engines.chunking import pool_chunks, split_token_ids
from recsys.engines.clip import ClipEngine
from recsys.engines.images import ImageUnreadable, open_rgb
from recsys.engines.model_files import local_model_dir
from recsys.engines.resnet import ResNetEngine
from recsys.engines.torch_runtime import resolve_device


def test_split_token_ids_covers_every_token_in_windows():
    windows, truncated = split_token_ids(list(range(10)), size=4)
    assert windows == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert truncated is False


def test_split_token_ids_overlapping_windows_share_tokens():
    windows, _ = split_token_ids(list(range(10)), size=4, overlap=1)
    assert windows == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]


def test_split_token_ids_reports_truncation_at_max_chunks():
    windows, truncated = split_token_ids(list(range(10)), size=4, max_chunks=2)
    assert windows == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert truncated is True


def test_split_token_ids_empty_text_is_one_empty_window():
    assert split_token_ids([], size=4) == ([[]], False)


def test_pool_chunks_is_token_weighted_mean_of_unit_vectors():
    vectors = torch.tensor([[3.0, 0.0], [0.0, 0.5], [2.0, 2.0]])
    owner = torch.tensor([0, 0, 1])
    pooled = pool_chunks(vectors, owner, torch.tensor([3.0, 1.0, 5.0]), 2).numpy()
    expected0 = np.array([3.0, 1.0]) / np.sqrt(10.0)  # 3*[1,0] + 1*[0,1], normalised
    np.testing.assert_allclose(pooled[0], expected0, rtol=1e-6)
    np.testing.assert_allclose(pooled[1], [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-6)


def test_local_model_dir_tells_paths_from_hub_ids(tmp_path):
    assert local_model_dir(str(tmp_path)) == tmp_path
    assert local_model_dir("openai/clip-vit-base-patch32") is None
    assert local_model_dir("/no/such/model") is not None


def test_resolve_device_auto_and_missing_cuda():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ModelNotAvailable, match="RECSYS_DEVICE"):
            resolve_device("cuda")


def test_missing_model_dir_names_the_setting(tmp_path):
    engine = ClipEngine(name="clip", model=str(tmp_path / "absent"))
    with pytest.raises(ModelNotAvailable) as excinfo:
        engine.check_available()
    assert "RECSYS_CLIP_MODEL" in excinfo.value.message
    assert "does not exist" in excinfo.value.message
    assert excinfo.value.detail["setting"] == "RECSYS_CLIP_MODEL"


def test_encode_with_missing_model_raises_before_reading_items(tmp_path, painting):
    engine = ClipEngine(name="clip", model=str(tmp_path / "absent"))
    with pytest.raises(ModelNotAvailable, match="RECSYS_CLIP_MODEL"):
        engine.encode([painting(1, "a storm")], tmp_path)


def test_uncached_hub_id_fails_fast_offline(settings):
    settings.RECSYS_HF_OFFLINE = True
    engine = ClipEngine(name="clip", model="openai/clip-vit-base-patch32-not-cached-here")
    with pytest.raises(ModelNotAvailable) as excinfo:
        engine.check_available()
    assert "RECSYS_CLIP_MODEL" in excinfo.value.message
    assert "RECSYS_HF_OFFLINE" in excinfo.value.message


def test_model_of_the_wrong_type_is_not_available(tiny_models):
    engine = ResNetEngine(name="resnet", model=tiny_models["clip"])
    with pytest.raises(ModelNotAvailable, match=r"'clip' model.*RECSYS_RESNET_MODEL"):
        engine.check_available()


def test_check_available_accepts_a_complete_local_dir(tiny_models):
    ClipEngine(name="clip", model=tiny_models["clip"]).check_available()


def test_open_rgb_converts_to_rgb(tmp_path):
    from PIL import Image

    path = tmp_path / "grey.png"
    Image.new("L", (5, 3), color=7).save(path)
    image = open_rgb(path)
    assert image.mode == "RGB"
    assert image.size == (5, 3)
    assert image.getpixel((0, 0)) == (7, 7, 7)


def test_open_rgb_reports_unreadable_and_missing_files(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    with pytest.raises(ImageUnreadable, match=r"image unreadable: broken\.jpg"):
        open_rgb(broken)
    with pytest.raises(ImageUnreadable, match=r"image file not found: gone\.png"):
        open_rgb(tmp_path / "gone.png")


def test_params_include_effective_text_options():
    params = ClipEngine(name="clip", model="m", options={"batch_size": 4, "max_chunks": None}).params()
    assert params["batch_size"] == 4
    assert params["max_chunks"] == 32
    assert params["chunk_overlap"] == 0
    assert "max_chunks" not in ResNetEngine(name="resnet", model="m").params()
