"""The shipped hardware data: GPU profiles and decode measurements refer to things that exist."""

from __future__ import annotations

from service.domain.engine import Engine


def test_every_decode_measurement_names_a_catalogue_model_with_a_size_and_a_gpu_profile(engine: Engine) -> None:
    for m in engine.rules.hardware.decode_measurements:
        assert m.model in engine.catalogue.models, m.model
        assert engine.catalogue.models[m.model].parameters_total_b is not None, m.model
        assert m.gpu in engine.rules.gpus, m.gpu


def test_the_common_data_centre_and_workstation_gpus_have_profiles(engine: Engine) -> None:
    expected = {"a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie", "h200", "b200", "l40s", "rtx-4090", "rtx-5090",
                "rtx-pro-6000", "mi300x", "mi325x", "mi355x"}  # fmt: skip
    assert expected <= set(engine.rules.gpus)
    for gpu in engine.rules.gpus.values():
        assert gpu.memory_gb.source.startswith("https://") and gpu.memory_bandwidth_gb_s.source.startswith("https://")


def test_every_released_format_is_one_the_memory_rule_prices(engine: Engine) -> None:
    priced = set(engine.rules.hardware.bytes_per_parameter)
    for model in engine.catalogue.models.values():
        if model.released_formats is not None:
            assert set(model.released_formats.value) <= priced, model.id
