"""What in a scenario can never be planned, said before solving so it can be fixed."""

from __future__ import annotations

from planner.scenario import Scenario


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
    for patient in scenario.patients_to_plan():
        if patient.done_steps:
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
