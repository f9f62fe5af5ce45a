"""Cost is never zero or invented: every input is required and shown; zero only by choice."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inhouse.trials.cost import (
    ApiPrices,
    LocalCostInputs,
    ManualCostInputs,
    api_cost,
    local_cost,
    manual_cost,
)

LOCAL = {
    "watts": 100.0,
    "price_per_kwh": 0.30,
    "hardware_price": 2628.0,
    "lifetime_hours": 26280.0,
    "utilisation": 0.5,
}


def test_local_cost_is_energy_plus_amortised_hardware() -> None:
    inputs = LocalCostInputs.model_validate(LOCAL)
    cost = local_cost(inputs, [3600.0, 1800.0])
    # energy: 100 W for 1 h = 0.1 kWh x 0.30 = 0.03; hardware: 2628 / 26280 = 0.1 per hour,
    # divided by utilisation 0.5 = 0.2 per busy hour
    assert cost.per_task[0] == pytest.approx(0.03 + 0.2)
    assert cost.per_task[1] == pytest.approx((0.03 + 0.2) / 2)
    assert cost.parts["energy"] == pytest.approx(0.045)
    assert cost.parts["hardware"] == pytest.approx(0.3)
    shown = {i.name: i.value for i in cost.inputs}
    assert shown == {
        "watts": 100.0,
        "price per kWh": 0.30,
        "hardware price": 2628.0,
        "lifetime": 26280.0,
        "utilisation assumption": 0.5,
        "busy time (all tasks)": 5400.0,
    }
    assert cost.zero_note is None


def test_overlapping_requests_share_the_measured_busy_span() -> None:
    inputs = LocalCostInputs.model_validate(LOCAL)
    # four requests of 10 s each ran side by side in 10 s of wall time
    cost = local_cost(inputs, [10.0] * 4, wall_seconds=10.0)
    alone = local_cost(inputs, [10.0])
    assert cost.total == pytest.approx(alone.total)
    assert cost.per_task[0] == pytest.approx(alone.total / 4)


@pytest.mark.parametrize("field", list(LOCAL))
def test_missing_local_inputs_are_named(field: str) -> None:
    raw = {k: v for k, v in LOCAL.items() if k != field}
    with pytest.raises(ValidationError, match=f"missing local cost input: {field}"):
        LocalCostInputs.model_validate(raw)


def test_all_missing_inputs_are_named_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        LocalCostInputs.model_validate({"watts": 50})
    assert "price_per_kwh, hardware_price, lifetime_hours, utilisation" in str(info.value)


@pytest.mark.parametrize(
    "zeros",
    [
        {"price_per_kwh": 0.0, "hardware_price": 0.0},
        {"watts": 0.0, "hardware_price": 0.0},
    ],
)
def test_a_partial_zero_that_would_zero_the_cost_is_refused(zeros: dict[str, float]) -> None:
    with pytest.raises(ValidationError, match="exactly zero"):
        LocalCostInputs.model_validate({**LOCAL, **zeros})


def test_zero_cost_only_when_every_input_is_zero_and_then_it_says_so() -> None:
    inputs = LocalCostInputs.model_validate(
        {**LOCAL, "watts": 0, "price_per_kwh": 0, "hardware_price": 0}
    )
    cost = local_cost(inputs, [5.0, 6.0])
    assert cost.total == 0
    assert cost.zero_note is not None and "set to zero" in cost.zero_note


def test_a_positive_local_cost_is_never_zero() -> None:
    inputs = LocalCostInputs.model_validate({**LOCAL, "watts": 0})  # hardware still costs
    assert local_cost(inputs, [0.5]).total > 0


def test_utilisation_and_lifetime_cannot_be_zero() -> None:
    with pytest.raises(ValidationError, match="utilisation"):
        LocalCostInputs.model_validate({**LOCAL, "utilisation": 0})
    with pytest.raises(ValidationError, match="lifetime_hours"):
        LocalCostInputs.model_validate({**LOCAL, "lifetime_hours": 0})


def test_api_cost_is_tokens_times_listed_prices() -> None:
    prices = ApiPrices(price_input_per_mtok=2.5, price_output_per_mtok=10.0)
    cost = api_cost(prices, [1000, 2000], [100, 300], estimated=1)
    assert cost.per_task == pytest.approx([0.0025 + 0.001, 0.005 + 0.003])
    shown = {i.name: (i.value, i.source) for i in cost.inputs}
    assert shown["price per 1M input tokens"] == (2.5, "configured")
    assert shown["input tokens (all tasks)"] == (3000.0, "measured (1 task estimated)")
    assert shown["output tokens (all tasks)"][0] == 400.0


def test_api_prices_are_required() -> None:
    with pytest.raises(ValidationError, match="missing API cost input: price_output"):
        ApiPrices.model_validate({"price_input_per_mtok": 1.0})


@pytest.mark.parametrize(("price", "said"), [(1e308, "less than or equal to 1000000000"),
                                             (float("inf"), "finite number")])  # fmt: skip
def test_an_absurd_listed_price_is_refused_by_name(price: float, said: str) -> None:
    """A trial spec's API price of 1e308 (or inf) made every cost inf: the trial's, and the
    indicators' reference cost priced with the trial's status quo. Above 1,000,000,000 per 1M
    tokens is refused, naming the field; the dearest accepted keeps costs finite."""
    with pytest.raises(ValidationError, match=f"price_output_per_mtok\n.*{said}"):
        ApiPrices.model_validate({"price_input_per_mtok": 1.0, "price_output_per_mtok": price})
    dearest = ApiPrices(price_input_per_mtok=1e9, price_output_per_mtok=1e9)
    assert all(c < float("inf") for c in api_cost(dearest, [2**62], [2**62]).per_task)


def test_manual_cost_is_minutes_times_hourly_cost() -> None:
    cost = manual_cost(ManualCostInputs(hourly_cost=60.0), [3.0, 1.5])
    assert cost.per_task == pytest.approx([3.0, 1.5])
    assert {i.name: i.value for i in cost.inputs} == {
        "hourly cost": 60.0,
        "minutes (all tasks)": 4.5,
    }
    with pytest.raises(ValidationError, match="hourly_cost"):
        ManualCostInputs.model_validate({})


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        ("local", "watts", float("inf")),
        ("local", "watts", 1e7),
        ("local", "price_per_kwh", float("nan")),
        ("local", "hardware_price", 1e300),
        ("local", "lifetime_hours", float("inf")),
        ("local", "lifetime_hours", 1e-300),  # the price divided by it: inf as well
        ("local", "utilisation", 1e-300),
        ("manual", "hourly_cost", float("inf")),
        ("manual", "hourly_cost", 1e300),
    ],
)
def test_an_absurd_typed_cost_is_refused_by_name(model: str, field: str, value: float) -> None:
    """A machine's power, price or lifetime, or a person's hourly cost, typed as inf, nan or a
    number past any real one, made a trial's costs inf (or nan, or zero); each is refused,
    naming the field, and the dearest accepted keeps costs finite."""
    from inhouse.trials.cost import MAX_AMOUNT, MAX_WATTS, MIN_DIVISOR, LocalCostInputs, local_cost

    local = {"watts": 300.0, "price_per_kwh": 0.3, "hardware_price": 3000.0,
             "lifetime_hours": 26280.0, "utilisation": 0.5}  # fmt: skip
    with pytest.raises(ValidationError, match=field):
        if model == "local":
            LocalCostInputs.model_validate({**local, field: value})
        else:
            ManualCostInputs.model_validate({"hourly_cost": value})
    dearest = LocalCostInputs(watts=MAX_WATTS, price_per_kwh=MAX_AMOUNT, hardware_price=MAX_AMOUNT,
                              lifetime_hours=MIN_DIVISOR, utilisation=MIN_DIVISOR)  # fmt: skip
    assert all(c < float("inf") for c in local_cost(dearest, [1e6]).per_task)
    assert all(c < float("inf") for c in manual_cost(ManualCostInputs(hourly_cost=MAX_AMOUNT),
                                                      [1e6]).per_task)  # fmt: skip
