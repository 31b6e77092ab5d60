"""What in a scenario can never be planned, said before solving so it can be fixed."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from planner.patients import Patient
from planner.scenario import Scenario
from planner.validation import ValidationError


class NeverFeasibleError(ValidationError):
    """A scenario no plan can satisfy in full, refused before solving; `problems` says
    what to fix, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        many = len(problems) != 1
        #: One sentence for a status line: how many, and to fix them first.
        self.summary = (
            f"{len(problems)} input{'s' if many else ''} can never be planned; fix "
            f"{'them' if many else 'it'} first"
        )
        super().__init__(f"{self.summary}:\n" + "\n".join(f"  - {p}" for p in problems))


def refuse_never_feasible(scenario: Scenario) -> None:
    """Raise NeverFeasibleError naming what no plan can satisfy, if anything."""
    problems = never_feasible(scenario)
    if problems:
        raise NeverFeasibleError(problems)


def never_feasible(scenario: Scenario) -> list[str]:
    """Sentences naming what no plan can satisfy and what to fix, in a stable order."""
    found: list[str] = []
    rostered = {e.staff_code for e in scenario.roster}
    for product in scenario.products:
        patients = [p.code for p in scenario.patients_to_plan() if p.product_code == product.code]
        if not patients:
            continue
        who = f"{len(patients)} patient{'s' if len(patients) != 1 else ''} of {product.code}"
        if any(s.needs_cleanroom for s in product.steps) and not any(
            product.code in r.products for r in scenario.cleanrooms
        ):
            found.append(
                f"No cleanroom runs {product.code}, so {who} cannot be planned: add "
                f"{product.code} to a cleanroom's products."
            )
        if any(s.needs_device for s in product.steps) and not any(
            product.code in d.products for d in scenario.devices
        ):
            found.append(
                f"No device runs {product.code}, so {who} cannot be planned: add "
                f"{product.code} to a device's products."
            )
        for step in product.steps:
            for need in step.staff:
                trained = product.code if need.product_trained else None
                able = scenario.staff_with(need.role, trained)
                what = need.role.value + (f" trained on {trained}" if trained else "")
                if not able:
                    found.append(
                        f"No {what} in the staff list, so step {step.code} of {product.code} "
                        f"({who}) cannot be staffed: add one, or their training."
                    )
                elif len(able) < need.count:
                    found.append(
                        f"Step {step.code} of {product.code} needs {need.count} {what}s at "
                        f"once but the staff list has {len(able)}."
                    )
                elif not any(s.code in rostered for s in able):
                    found.append(
                        f"No {what} is on the roster, so step {step.code} of {product.code} "
                        f"({who}) cannot be staffed: import or enter a roster."
                    )
    found += _idle_equipment(scenario)
    for patient in scenario.patients_to_plan():
        if patient.done_steps:
            found += _lag_run_out(scenario, patient)
            continue
        if patient.latest_apheresis < scenario.horizon_start:
            found.append(
                f"Patient {patient.code}'s apheresis window ends {patient.latest_apheresis}, "
                f"before the horizon starts ({scenario.horizon_start})."
            )
        elif patient.earliest_apheresis > scenario.horizon_end:
            found.append(
                f"Patient {patient.code}'s apheresis window starts "
                f"{patient.earliest_apheresis}, after the horizon ends ({scenario.horizon_end})."
            )
    return list(dict.fromkeys(found))


def _lag_run_out(scenario: Scenario, patient: Patient) -> list[str]:
    """A patient in process whose next step had to start, by its maximum lag after the
    last step done, before the horizon starts."""
    steps = scenario.product(patient.product_code).steps
    order = {"apheresis": -1} | {step.code: i for i, step in enumerate(steps)}
    last = max(patient.done_steps, key=lambda d: order.get(d.step_code, -1))
    index = order.get(last.step_code, -1) + 1
    if index >= len(steps):
        return []
    step = steps[index]
    if step.max_lag_hours is None:
        return []
    deadline = last.end + timedelta(hours=step.max_lag_hours)
    if deadline >= datetime.combine(scenario.horizon_start, time()):
        return []
    return [
        f"Patient {patient.code}'s {last.step_code} ended {last.end:%Y-%m-%d %H:%M} and step "
        f"{step.code} must start within {step.max_lag_hours} h of it (by "
        f"{deadline:%Y-%m-%d %H:%M}), before the horizon starts ({scenario.horizon_start}): "
        f"record {step.code} as done if it was, or the batch as failed."
    ]


def _idle_equipment(scenario: Scenario) -> list[str]:
    """Rooms that run no product and house no device, and devices that run no product
    (a slip when typing, or equipment still to be qualified)."""
    housing = {code for d in scenario.devices for code in d.room_codes}
    found = [
        f"Cleanroom {r.code} runs no product and houses no device: list the products it "
        "runs, or remove it."
        for r in scenario.cleanrooms
        if not r.products and r.code not in housing
    ]
    found += [
        f"Device {d.code} runs no product: list the products it runs, or remove it."
        for d in scenario.devices
        if not d.products
    ]
    return found


def ignored_inputs(scenario: Scenario) -> list[str]:
    """Sentences naming data the planner will not use (it lies outside the horizon)."""
    outside = [
        e for e in scenario.roster if not scenario.horizon_start <= e.day <= scenario.horizon_end
    ]
    if not outside:
        return []
    first, last = min(e.day for e in outside), max(e.day for e in outside)
    many = len(outside) != 1
    return [
        f"{len(outside)} roster entr{'ies' if many else 'y'} from {first} to {last} "
        f"{'fall' if many else 'falls'} outside the horizon ({scenario.horizon_start} to "
        f"{scenario.horizon_end}) and {'are' if many else 'is'} not used."
    ]
