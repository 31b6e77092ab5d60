"""Mutation run over the rules of issue 15: model, greedy, checker, compilation, staffing.

Each mutant removes or weakens one rule in one place (a single exact text replacement).
The repository's files are copied to a temporary directory once; each mutant is written
into that copy, the tests are run there, and the file is restored, so the working tree is
never touched. A mutant is caught when a test fails (or the run times out).

    .venv/bin/python scripts/mutation_issue15.py            # every mutant, Markdown table
    .venv/bin/python scripts/mutation_issue15.py --only 7,12
    .venv/bin/python scripts/mutation_issue15.py --check    # each mutation applies once

Tests run: tests/solver and tests/planner (-x, first failure stops), the mutant's most
likely test files first. A run takes 12-22 minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ("tests/solver", "tests/planner")
TIMEOUT_S = 300

CLINICAL = "tests/solver/test_clinical.py"
CHECKS = "tests/planner/test_checks.py"
CONSTRAINTS = "tests/solver/test_constraints.py"
STAFFING = "tests/solver/test_staffing.py"
GROUPS = "tests/solver/test_staff_groups.py"
SLOTS = "tests/solver/test_shift_slots.py"
REPAIR = "tests/solver/test_repair.py"
SOLVE = "tests/solver/test_solve.py"
SCENARIO = "tests/planner/test_scenario.py"


@dataclass(frozen=True)
class Mutant:
    """One small edit that breaks (removes or weakens) a rule in one place."""

    rule: str
    place: str
    path: str
    old: str
    new: str
    what: str
    first: tuple[str, ...] = ()
    #: Why the mutant cannot change behaviour, if it is known to be equivalent.
    equivalent: str = ""


R_DONE = "Done steps exact and kept"
R_LD_APH = "LD never before apheresis ends"
R_SHELF = "Fresh shelf life from the configured step"
R_LD_REL = "LD before release only if ld_before_release"
R_GROUPS = "Staff groups per day/role/product set"
R_NAMED = "Named staff: qualified, on shift, one place, weekly hours"
R_QP = "Release on QP days"
R_CLIN = "LD start and infusion on clinical days unless infusion_any_day"
R_INF = "Infused patients keep bed days and cohort stagger/cap"
R_GATE = "Dose-escalation gates between cohorts"
R_WITHIN = "apheresis_within_days counted from enrolment"
R_DEV = "Devices take the downtime of their room"
R_OBJ = "Objective penalises waiting (and lateness)"
R_REPAIR = "Re-insertion after solving"
R_CHAIN = "Other chain rules named in issue 15 item 7"

MODEL, GREEDY, CHECKER = "solver/model.py", "solver/greedy.py", "planner/checks.py"
INSTANCE, CHAIN, API = "solver/instance.py", "solver/chain.py", "solver/api.py"

MUTANTS: tuple[Mutant, ...] = (
    # 1. Steps already done are facts ---------------------------------------------------
    Mutant(
        R_DONE,
        "model",
        MODEL,
        "        if i in self.job.done:\n            return self.job.done[i][0]",
        "        if i in self.job.done:\n"
        "            return (self.job.done[i][0] - 8) // 24 * 24 + 8",
        "a done step's start snapped to 08:00 of its day (the old bug)",
        (CLINICAL,),
        equivalent=(
            "JobVars.start of a done step is never read: lags count from done_end, holder "
            "intervals from held_from, chains() and extract read job.done/done_times"
        ),
    ),
    Mutant(
        R_DONE,
        "model",
        MODEL,
        "                self.model.add(jv.present == 1)",
        "                pass",
        "`require` drops: in-process patients may leave the CP-SAT plan",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "model",
        MODEL,
        "                # Steps done are facts; lags count from the last one's recorded end.\n"
        "                prev_hi, prev_lo = job.done_end",
        "                pass",
        "lags after done steps count from apheresis, not the last done step",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "model",
        MODEL,
        "inst.apheresis_slots[d] > 0 or -1 in job.done",
        "inst.apheresis_slots[d] > 0",
        "a done apheresis must fall on a day with slots left",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "greedy",
        GREEDY,
        "            prev_hi, prev_lo = job.done_end\n        starts = ",
        "            pass\n        starts = ",
        "lags after done steps count from apheresis, not the last done step",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "greedy",
        GREEDY,
        "            if taken and -1 not in job.done:",
        "            if taken:",
        "a done apheresis needs a free slot on its day",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "compilation",
        INSTANCE,
        "                slots[day] = max(0, slots[day] - 1)",
        "                pass",
        "a done apheresis takes no slot",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "compilation",
        INSTANCE,
        "                hours[pool][day] = max(0, hours[pool][day] - used)",
        "                pass",
        "a done staffed step takes no staff-hours",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "solve",
        API,
        "        if job.in_process and job.index in failures:",
        "        if False:",
        "an in-process patient that cannot go on is dropped silently",
        (CLINICAL,),
    ),
    Mutant(
        R_DONE,
        "checker",
        CHECKER,
        "        if patient not in rows:\n            problems.append(",
        "        if patient not in rows:\n            continue\n            problems.append(",
        "an in-process patient left out of the plan is not reported",
        (CHECKS,),
    ),
    Mutant(
        R_DONE,
        "checker",
        CHECKER,
        "and (a.start, a.end) != (record.start, record.end)",
        "and a.start != record.start",
        "a done step keeping its start but not its end is not reported",
        (CHECKS,),
    ),
    Mutant(
        R_DONE,
        "validation",
        "planner/scenario.py",
        "                step.start >= previous.end,",
        "                step.start > previous.end,",
        "a done step starting exactly when the previous ends is refused (off by one)",
        (CLINICAL, SCENARIO),
    ),
    Mutant(
        R_DONE,
        "validation",
        "planner/scenario.py",
        "                step.start >= previous.end,",
        "                step.start >= previous.start,",
        "a done step may start before the previous one ends",
        (CLINICAL, SCENARIO),
    ),
    # 2. Lymphodepletion and apheresis ---------------------------------------------------
    Mutant(
        R_LD_APH,
        "model",
        MODEL,
        "                m.add(ld_start >= self._apheresis_end(jv)).only_enforce_if(on)",
        "                pass",
        "constraint deleted",
        (CLINICAL,),
    ),
    Mutant(
        R_LD_APH,
        "model",
        MODEL,
        "                m.add(ld_start >= self._apheresis_end(jv)).only_enforce_if(on)",
        "                m.add(ld_start + HOURS_PER_DAY >= self._apheresis_end(jv))"
        ".only_enforce_if(on)",
        "one day early allowed (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_LD_APH,
        "greedy",
        CHAIN,
        "        first = max(first, ld - (-(aph_end - instance.day_start) // HOURS_PER_DAY))",
        "        first = max(first, ld - 1 - (-(aph_end - instance.day_start) // HOURS_PER_DAY))",
        "infusion_window: one day early allowed (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_LD_APH,
        "checker",
        CHECKER,
        '        if ld_start < span["apheresis"][1]:',
        '        if ld_start < span["apheresis"][0]:',
        "compared with apheresis start, not end",
        (CHECKS,),
    ),
    # 3. Fresh shelf life ------------------------------------------------------------------
    Mutant(
        R_SHELF,
        "model",
        MODEL,
        "                shelf_end = jv.end(inst, shelf_step(job))",
        "                shelf_end = jv.end(inst, len(job.steps) - 1)",
        "counted from the last step, not the configured one",
        (CLINICAL, CONSTRAINTS),
    ),
    Mutant(
        R_SHELF,
        "model",
        MODEL,
        "                m.add(jv.infusion <= shelf_day + shelf).only_enforce_if(on)",
        "                m.add(jv.infusion <= shelf_day + shelf + 1).only_enforce_if(on)",
        "one day more (off by one)",
        (CLINICAL, CONSTRAINTS),
    ),
    Mutant(
        R_SHELF,
        "greedy",
        CHAIN,
        "        k = shelf_step(job)",
        "        k = len(starts) - 1",
        "infusion_window: counted from the last step",
        (CLINICAL, CONSTRAINTS),
    ),
    Mutant(
        R_SHELF,
        "greedy",
        CHAIN,
        "        last = min(last, shelf_day + product.fresh_shelf_days)",
        "        last = min(last, shelf_day + product.fresh_shelf_days + 1)",
        "infusion_window: one day more (off by one)",
        (CLINICAL, CONSTRAINTS),
    ),
    Mutant(
        R_SHELF,
        "checker",
        CHECKER,
        "        shelf_from = _day_of_end(ends[product.shelf_step])",
        "        shelf_from = _day_of_end(prev_end)",
        "counted from the last step",
        (CHECKS,),
    ),
    Mutant(
        R_SHELF,
        "checker",
        CHECKER,
        "        if product.storage is Storage.FRESH and infusion > shelf_from + timedelta(\n"
        "            days=product.fresh_shelf_days\n",
        "        if product.storage is Storage.FRESH and infusion > shelf_from + timedelta(\n"
        "            days=product.fresh_shelf_days + 1\n",
        "one day more (off by one)",
        (CHECKS,),
    ),
    # 4. Lymphodepletion and release -----------------------------------------------------
    Mutant(
        R_LD_REL,
        "product",
        "planner/products.py",
        "        return self.storage is Storage.CRYO or not self.ld_before_release",
        "        return self.storage is Storage.CRYO",
        "fresh LD never waits for release",
        (CLINICAL, CHECKS),
    ),
    Mutant(
        R_LD_REL,
        "model",
        MODEL,
        "                    m.add(jv.infusion - ld >= release).only_enforce_if(on)",
        "                    m.add(jv.infusion - ld >= release - 1).only_enforce_if(on)",
        "LD may start the day before release (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_LD_REL,
        "model",
        MODEL,
        "                m.add(jv.infusion >= jv.end_day + 1 + ld).only_enforce_if(on)",
        "                pass",
        "cryopreserved LD may start before the batch exists",
        (CLINICAL,),
    ),
    Mutant(
        R_LD_REL,
        "greedy",
        CHAIN,
        "            first = max(first, release + ld)",
        "            first = max(first, release + ld - 1)",
        "infusion_window: LD the day before release (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_LD_REL,
        "greedy",
        CHAIN,
        "        first = max(first, end_day + 1 + ld)",
        "        pass",
        "infusion_window: cryopreserved LD may start before the batch exists",
        (CLINICAL,),
    ),
    Mutant(
        R_LD_REL,
        "checker",
        CHECKER,
        "        if product.ld_waits_for_release and ld_start.date() < release:",
        "        if product.ld_waits_for_release and ld_start.date() < release - timedelta(1):",
        "LD the day before release passes (off by one)",
        (CHECKS,),
    ),
    # 5. Staff groups ------------------------------------------------------------------------
    Mutant(
        R_GROUPS,
        "model",
        MODEL,
        "        for g, group_items in sorted(items.items()):\n            group = ",
        "        for g, group_items in sorted(items.items())[:0]:\n            group = ",
        "no group capacity in CP-SAT",
        (GROUPS,),
    ),
    Mutant(
        R_GROUPS,
        "model",
        MODEL,
        "                count <= inst.staff_groups[g].people[slot]",
        "                True",
        "the slot filter ignores groups",
        (GROUPS,),
        equivalent=(
            "domain pruning only: add_staff_groups' cumulative forbids a step needing more "
            "people than the group has that day"
        ),
    ),
    Mutant(
        R_GROUPS,
        "model",
        MODEL,
        "            long_enough(inst, step, slot)",
        "            True",
        "the slot filter on people whose shift covers the need dropped",
        (CONSTRAINTS, GROUPS),
    ),
    Mutant(
        R_GROUPS,
        "greedy",
        GREEDY,
        "            if taken + count > inst.staff_groups[g].people[slot]:",
        "            if taken + count > inst.staff_groups[g].people[slot] + 1:",
        "one person more than the group has (off by one)",
        (GROUPS,),
    ),
    Mutant(
        R_GROUPS,
        "greedy",
        GREEDY,
        "        return long_enough(inst, step, slot)",
        "        return True",
        "the filter on people whose shift covers the need dropped",
        (CONSTRAINTS, GROUPS),
    ),
    Mutant(
        R_GROUPS,
        "greedy",
        GREEDY,
        "                used[(_group_key(g), slot)] = used.get((_group_key(g), slot), 0) + count",
        "                pass",
        "steps of the chain being placed do not count against groups",
        (GROUPS,),
        equivalent=(
            "dead code: staffed steps start at a slot's start and last at least an hour, "
            "so two of one chain never share a slot"
        ),
    ),
    Mutant(
        R_GROUPS,
        "compilation",
        "solver/staff_groups.py",
        "EXACT_PRODUCTS = 6",
        "EXACT_PRODUCTS = 1",
        "product sets: single products and the whole role only",
        (GROUPS,),
    ),
    Mutant(
        R_GROUPS,
        "compilation",
        "solver/staff_groups.py",
        "and (chosen is None or chosen & set(staff[code].trained_products))",
        "",
        "people counted without their training",
        (GROUPS,),
    ),
    Mutant(
        R_GROUPS,
        "compilation",
        INSTANCE,
        "        hours = min(shift.hours, site.working_hours)",
        "        hours = shift.hours",
        "pool hours not capped by the working day",
        (CONSTRAINTS,),
    ),
    Mutant(
        R_GROUPS,
        "checker",
        CHECKER,
        "                and (not product or product in member.trained_products)\n"
        "            ):\n                available +=",
        "            ):\n                available +=",
        "pool hours counted without training",
        (CHECKS,),
    ),
    # 6. Named staff -------------------------------------------------------------------------
    Mutant(
        R_NAMED,
        "staffing",
        "solver/staffing.py",
        "        need.product is None or need.product in person.trained_products",
        "        True",
        "untrained people named",
        (STAFFING,),
    ),
    Mutant(
        R_NAMED,
        "staffing",
        "solver/staffing.py",
        "    return any(s <= need.start and need.end <= e for s, e in shifts)",
        "    return any(s <= need.start for s, e in shifts)",
        "a shift need not cover the need's end",
        (STAFFING,),
    ),
    Mutant(
        R_NAMED,
        "staffing",
        "solver/staffing.py",
        "        model.add_no_overlap([interval for _, _, interval in items])",
        "        pass",
        "one person in two places",
        (STAFFING,),
    ),
    Mutant(
        R_NAMED,
        "staffing",
        "solver/staffing.py",
        "        model.add(worked <= int(staff[p].contracted_hours_per_week))",
        "        pass",
        "weekly hours ignored",
        (STAFFING,),
    ),
    Mutant(
        R_NAMED,
        "checker",
        CHECKER,
        '            problems.append(f"{where}: not qualified for what the step needs.")',
        "            pass",
        "unqualified people pass",
        (STAFFING,),
    ),
    Mutant(
        R_NAMED,
        "checker",
        CHECKER,
        "        if not any(s <= a.start and a.end <= e for s, e in worked[a.resource_code]):",
        "        if not any(s <= a.start for s, e in worked[a.resource_code]):",
        "a shift need not cover the step's end",
        (STAFFING,),
    ),
    Mutant(
        R_NAMED,
        "checker",
        CHECKER,
        "            if second.start < first.end:",
        "            if second.start < first.start:",
        "one person in two places passes",
        (STAFFING,),
    ),
    Mutant(
        R_NAMED,
        "checker",
        CHECKER,
        "            if hours > limit:",
        "            if hours > limit + 8:",
        "a day over the weekly hours passes",
        (STAFFING,),
    ),
    # 7. Release on QP days ------------------------------------------------------------------
    Mutant(
        R_QP,
        "model",
        MODEL,
        "        if not inst.release_table or jv.job.product.storage is not Storage.CRYO:",
        "        if True:",
        "release not moved to a QP day",
        (CLINICAL,),
    ),
    Mutant(
        R_QP,
        "greedy",
        INSTANCE,
        "        if job.product.storage is not Storage.CRYO or not self.release_table:",
        "        if True:",
        "release_of: release not moved to a QP day",
        (CLINICAL,),
    ),
    Mutant(
        R_QP,
        "scenario",
        "planner/scenario.py",
        "            and not shifts[e.shift_code].is_leave\n",
        "",
        "QPs on leave count as working",
        (CLINICAL, CHECKS),
        equivalent=(
            "a leave shift never covers day work (ShiftCode validation), so the is_leave test "
            "next to covers_day_work is redundant"
        ),
    ),
    Mutant(
        R_QP,
        "checker",
        CHECKER,
        "    if released is not None and cryo and scenario.qp_days and released not in",
        "    if False and released is not None and cryo and scenario.qp_days and released not in",
        "release on a non-QP day not reported",
        (CHECKS,),
    ),
    Mutant(
        R_QP,
        "checker",
        CHECKER,
        "    release = scenario.release_on(ready) if product.storage is Storage.CRYO else ready",
        "    release = ready",
        "infusion/LD compared with the QC-ready day, not the QP release day",
        (CHECKS,),
    ),
    # 8. Clinical calendar -------------------------------------------------------------------
    Mutant(
        R_CLIN,
        "scenario",
        "planner/scenario.py",
        "        return self.is_clinical_day(infusion) and self.is_clinical_day(ld_start)",
        "        return self.is_clinical_day(infusion)",
        "LD start day not checked",
        (CLINICAL, CHECKS),
    ),
    Mutant(
        R_CLIN,
        "scenario",
        "planner/scenario.py",
        "        return day.weekday() < 5 and day not in self.holiday_dates",
        "        return day.weekday() < 5",
        "holidays are clinical days",
        (CLINICAL, CHECKS),
    ),
    Mutant(
        R_CLIN,
        "model",
        MODEL,
        "            m.add_linear_expression_in_domain(jv.infusion, "
        "cp_model.Domain.from_values(days))",
        "            pass",
        "no clinical-day domain in CP-SAT",
        (CLINICAL,),
    ),
    Mutant(
        R_CLIN,
        "greedy",
        GREEDY,
        "                if not inst.infusion_ok(job, infusion):\n                    continue",
        "                pass",
        "greedy infuses any day",
        (CLINICAL,),
    ),
    Mutant(
        R_CLIN,
        "compilation",
        INSTANCE,
        "            if not p.infusion_any_day\n",
        "",
        "any-day products held to clinical days",
        (CLINICAL,),
        equivalent=(
            "Scenario.infusion_allowed returns True for an any-day product, so its table "
            "holds every day: the filter only saves memory"
        ),
    ),
    Mutant(
        R_CLIN,
        "checker",
        CHECKER,
        "        if not scenario.infusion_allowed(product, infusion):",
        "        if False:",
        "weekend/holiday infusion not reported",
        (CHECKS,),
    ),
    # 9. Infused patients: beds, stagger, cap ------------------------------------------------
    Mutant(
        R_INF,
        "compilation",
        INSTANCE,
        "            beds[d] = max(0, beds[d] - 1)",
        "            pass",
        "infused patients hold no beds (model and greedy)",
        (CLINICAL,),
    ),
    Mutant(
        R_INF,
        "compilation",
        INSTANCE,
        "        for d in range(max(0, first), min(bed_days, first + stay)):",
        "        for d in range(max(0, first), min(bed_days, first + stay - 1)):",
        "infused patients hold one bed-day fewer (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_INF,
        "checker",
        CHECKER,
        "            for k in range(scenario.product(p.product_code).inpatient_days):",
        "            for k in range(scenario.product(p.product_code).inpatient_days - 1):",
        "infused patients hold one bed-day fewer (off by one)",
        (CLINICAL, CHECKS),
    ),
    Mutant(
        R_INF,
        "model",
        MODEL,
        "                    m.add(jv.infusion >= taken + gap).only_enforce_if(far)",
        "                    m.add(jv.infusion >= taken + gap - 1).only_enforce_if(far)",
        "stagger after an infused patient one day short (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_INF,
        "model",
        MODEL,
        "                    m.add(jv.infusion <= taken - gap).only_enforce_if(~far)",
        "                    m.add(jv.infusion <= taken).only_enforce_if(~far)",
        "stagger before an infused patient dropped",
        (CLINICAL,),
    ),
    Mutant(
        R_INF,
        "greedy",
        GREEDY,
        "            abs(day - other) < job.stagger_days for other in self.cohort_held(job.cohort)",
        "            abs(day - other) < job.stagger_days for other in self.cohort_days.get("
        "job.cohort, [])",
        "stagger ignores infused patients",
        (CLINICAL,),
    ),
    Mutant(
        R_INF,
        "checker",
        CHECKER,
        "                by_cohort[(p.trial_code, p.cohort_code)].append(p.infused_on)",
        "                pass",
        "stagger and gates ignore infused patients",
        (CLINICAL, CHECKS),
    ),
    Mutant(
        R_INF,
        "compilation",
        INSTANCE,
        "            cohort_used[(p.trial_code, p.cohort_code)] += 1",
        "            pass",
        "cohort caps do not count infused patients",
        (CONSTRAINTS, CLINICAL),
    ),
    Mutant(
        R_INF,
        "model",
        MODEL,
        "            m.add(sum(jv.present for jv in members) <= max(0, room))",
        "            m.add(sum(jv.present for jv in members) <= max(0, room) + 1)",
        "cohort cap one more (off by one)",
        (CONSTRAINTS,),
    ),
    Mutant(
        R_INF,
        "greedy",
        GREEDY,
        "        return used >= self.instance.cohort_caps[job.cohort]",
        "        return used > self.instance.cohort_caps[job.cohort]",
        "cohort cap one more (off by one)",
        (CONSTRAINTS,),
    ),
    Mutant(
        R_INF,
        "checker",
        CHECKER,
        "            infused[(p.trial_code, p.cohort_code)] += 1",
        "            pass",
        "cohort cap ignores infused patients",
        (CHECKS,),
    ),
    # 10. Dose-escalation gates --------------------------------------------------------------
    Mutant(
        R_GATE,
        "model",
        MODEL,
        "            m.add(first >= last + days)",
        "            m.add(first >= last + days - 1)",
        "gate one day short (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_GATE,
        "model",
        MODEL,
        "            for d in held_before:\n                m.add(last >= d)",
        "            for d in held_before:\n                pass",
        "infused patients of the level below do not gate",
        (CLINICAL,),
    ),
    Mutant(
        R_GATE,
        "greedy",
        GREEDY,
        "        if gate is not None and any(day < d + gate[1] for d in self.cohort_held("
        "gate[0])):",
        "        if gate is not None and any(day < d + gate[1] - 1 for d in self.cohort_held("
        "gate[0])):",
        "gate one day short (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_GATE,
        "greedy",
        GREEDY,
        "            day <= d - days\n",
        "            True\n",
        "a lower level may be booked after the level above opened",
        (CLINICAL,),
    ),
    Mutant(
        R_GATE,
        "compilation",
        "planner/patients.py",
        "            if k > 0 and self.cohorts[k].escalation_gate_days is not None",
        "            if k > 1 and self.cohorts[k].escalation_gate_days is not None",
        "the second cohort has no previous one",
        (CLINICAL,),
    ),
    Mutant(
        R_GATE,
        "checker",
        CHECKER,
        "            if (min(after) - max(before)).days < gate:",
        "            if (min(after) - max(before)).days < gate - 1:",
        "gate one day short (off by one)",
        (CLINICAL, CHECKS),
    ),
    # 11. apheresis_within_days --------------------------------------------------------------
    Mutant(
        R_WITHIN,
        "compilation",
        "planner/patients.py",
        "        return self.enrolled_on or self.referral_date",
        "        return self.referral_date",
        "counted from referral",
        (CLINICAL,),
    ),
    Mutant(
        R_WITHIN,
        "compilation",
        INSTANCE,
        "            latest = min(latest, instance.day_index(limit))",
        "            latest = min(latest, instance.day_index(limit) + 1)",
        "one day more (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_WITHIN,
        "checker",
        CHECKER,
        "        if within is not None and (s.apheresis_day - p.enrolment).days > within:",
        "        if within is not None and (s.apheresis_day - p.enrolment).days > within + 1:",
        "one day more (off by one)",
        (CLINICAL, CHECKS),
    ),
    Mutant(
        R_WITHIN,
        "checker",
        CHECKER,
        "        if within is not None and (s.apheresis_day - p.enrolment).days > within:",
        "        if within is not None and (s.apheresis_day - p.referral_date).days > within:",
        "counted from referral",
        (CLINICAL, CHECKS),
    ),
    # 12. Devices and their room's downtime --------------------------------------------------
    Mutant(
        R_DEV,
        "compilation",
        INSTANCE,
        "            windows += room_down[room_index[d.room_codes[0]]]",
        "            pass",
        "devices ignore their room's downtime (model and greedy)",
        (CONSTRAINTS, SOLVE),
    ),
    # 13. Objective --------------------------------------------------------------------------
    Mutant(
        R_OBJ,
        "model",
        MODEL,
        "            m.add(jv.wait >= jv.infusion - job.earliest_day).only_enforce_if(on)",
        "            m.add(jv.wait >= jv.infusion - jv.apheresis).only_enforce_if(on)",
        "wait counted from the chosen apheresis (vein-to-vein only)",
        (SOLVE,),
    ),
    Mutant(
        R_OBJ,
        "model",
        MODEL,
        "                m.add(jv.lateness >= jv.infusion - job.needed_day).only_enforce_if(on)",
        "                m.add(jv.lateness >= jv.infusion - job.needed_day - 1)"
        ".only_enforce_if(on)",
        "lateness one day short (off by one)",
        (SOLVE, REPAIR),
    ),
    Mutant(
        R_OBJ,
        "shared",
        CHAIN,
        "        return self.infusion_day - instance.jobs[self.job].earliest_day",
        "        return self.infusion_day - self.apheresis_day",
        "ChainTimes.wait is vein-to-vein (greedy, repair, plan objective)",
        (SOLVE, REPAIR),
    ),
    Mutant(
        R_OBJ,
        "shared",
        CHAIN,
        "        return 0 if needed is None else max(0, self.infusion_day - needed)",
        "        return 0 if needed is None else max(0, self.infusion_day - needed - 1)",
        "ChainTimes.lateness one day short (off by one)",
        (SOLVE, REPAIR),
    ),
    # 14. Re-insertion after solving ---------------------------------------------------------
    Mutant(
        R_REPAIR,
        "repair",
        API,
        "        if repair.describe() is not None:",
        "        if False:",
        "the pass's result is thrown away",
        (SOLVE, REPAIR),
    ),
    Mutant(
        R_REPAIR,
        "repair",
        "solver/repair.py",
        "        missing = [j for j in instance.jobs if j.index not in planned and "
        "j.blocked is None]",
        "        missing = []",
        "unscheduled patients are not tried",
        (REPAIR,),
    ),
    Mutant(
        R_REPAIR,
        "repair",
        "solver/repair.py",
        "    fixed = keep | {job.index for job in instance.jobs if job.in_process}",
        "    fixed = keep",
        "in-process patients may move",
        (REPAIR, CLINICAL),
    ),
    Mutant(
        R_REPAIR,
        "repair",
        "solver/repair.py",
        "            if trial_value > value:\n                current, value, improved = "
        "trial, trial_value, True\n                if job.code",
        "            if trial_value >= value - 1000:\n                current, value, "
        "improved = trial, trial_value, True\n                if job.code",
        "a move that makes the plan worse is kept",
        (REPAIR,),
    ),
    # Other rules of item 7 ------------------------------------------------------------------
    Mutant(
        R_CHAIN,
        "model",
        MODEL,
        "            m.add(jv.infusion >= jv.end_day + 1).only_enforce_if(on)",
        "            pass",
        "infusion at least a day after manufacturing",
        (CONSTRAINTS, CLINICAL),
    ),
    Mutant(
        R_CHAIN,
        "model",
        MODEL,
        "        end = jv.end(inst, last) + changeover",
        "        end = jv.end(inst, last)",
        "changeover length ignored in CP-SAT",
        (CONSTRAINTS,),
    ),
    Mutant(
        R_CHAIN,
        "greedy",
        GREEDY,
        "    return start, starts[last] + job.steps[last].duration + changeover",
        "    return start, starts[last] + job.steps[last].duration",
        "changeover length ignored by the greedy",
        (CONSTRAINTS,),
    ),
    Mutant(
        R_CHAIN,
        "model",
        MODEL,
        "            if cap < top:",
        "            if False:",
        "day-varying capacity (slots, beds, staff) read as its maximum",
        (CONSTRAINTS,),
    ),
    Mutant(
        R_CHAIN,
        "scenario",
        "planner/resources.py",
        "        if day in holidays:\n            return 0",
        "        if day in holidays:\n            pass",
        "holidays do not close apheresis",
        (CONSTRAINTS, CHECKS, SCENARIO),
    ),
    Mutant(
        R_CHAIN,
        "solve",
        API,
        "cp_value is not None and cp_value >= base.objective:",
        "cp_value is not None:",
        "the greedy floor: a worse CP-SAT plan is kept",
        (SOLVE,),
    ),
    # Added with the fix for needs no one shift covers (found by mutant 38) -------------
    Mutant(
        R_GROUPS,
        "compilation",
        INSTANCE,
        "    return all(d.hours <= instance.slots[slot].length for d in step.staff)",
        "    return True",
        "people counted whatever their shift (pooled hours may split a need)",
        (CONSTRAINTS,),
    ),
    Mutant(
        R_GROUPS,
        "compilation",
        "solver/staff_groups.py",
        "            start = work_start if begin <= work_start < free_from else begin",
        "            start = work_start",
        "a shift starting after the working day's start counted at the day's start",
        (CONSTRAINTS, SLOTS),
    ),
    Mutant(
        R_GROUPS,
        "checker",
        CHECKER,
        "    problems += _check_staff_cover(scenario, plan.assignments, done)\n",
        "",
        "needs no one rostered shift covers are not reported",
        (CHECKS,),
    ),
    Mutant(
        R_GROUPS,
        "checker",
        CHECKER,
        "                and a.end <= start + timedelta(hours=shift.hours)\n",
        "",
        "a shift covering the need's start only counts",
        (CHECKS,),
    ),
    # Added with the checker rules the survivors showed missing ------------------------------
    Mutant(
        R_DEV,
        "checker",
        CHECKER,
        "            if isinstance(holder, Device) and len(holder.room_codes) == 1:",
        "            if False:",
        "a device used while its room is down is not reported",
        (CHECKS,),
    ),
    Mutant(
        R_LD_REL,
        "checker",
        CHECKER,
        "        if cryo and ld_start < prev_end:",
        "        if False:",
        "cryopreserved LD before the batch is made is not reported",
        (CHECKS,),
    ),
    Mutant(
        R_CHAIN,
        "checker",
        CHECKER,
        "        if infusion <= made:",
        "        if infusion < made:",
        "infusion on the day the batch is made passes (off by one)",
        (CHECKS,),
    ),
    Mutant(
        R_CHAIN,
        "greedy",
        CHAIN,
        "    first = max(release, end_day + 1, ld)",
        "    first = max(release, end_day, ld)",
        "infusion_window: infusion on the day the batch is made (off by one)",
        (CLINICAL,),
    ),
    Mutant(
        R_CHAIN,
        "scenario",
        "planner/resources.py",
        "                beds = change.beds",
        "                pass",
        "bed changes ignored (the ward's default beds every day)",
        (CONSTRAINTS, CHECKS, SCENARIO),
    ),
    Mutant(
        R_CHAIN,
        "solve",
        API,
        "        chain_model.hint(hint)",
        "        pass",
        "CP-SAT starts without the greedy hint",
        (SOLVE,),
    ),
    # Added with slots at later shift starts (issue 12 item 3) -------------------------
    Mutant(
        R_GROUPS,
        "compilation",
        "solver/staff_groups.py",
        "        members.append(tuple(sorted(code for hours, code in people if hours == length)))",
        "        members.append(tuple(sorted(code for hours, code in people)))",
        "people whose shift ends sooner than the slot's counted in it",
        (SLOTS,),
    ),
)


def _files(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if (root / line).is_file()]


def _copy(root: Path, target: Path) -> None:
    for name in _files(root):
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, dest)


def _run_tests(copy: Path, first: tuple[str, ...]) -> tuple[bool, str]:
    """Run the tests in the copy; (caught, first failing test or why)."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "-o",
        "faulthandler_timeout=0",
        *first,
        *TESTS,
    ]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            cmd, cwd=copy, capture_output=True, text=True, timeout=TIMEOUT_S, env=env
        )
    except subprocess.TimeoutExpired:
        return True, f"timeout after {TIMEOUT_S} s"
    if done.returncode == 0:
        return False, ""
    found = re.search(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)
    if found:
        return True, found.group(1)
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["?"]
    return True, f"pytest exit {done.returncode}: {tail[0][:80]}"


def _apply(text: str, m: Mutant) -> str:
    if text.count(m.old) != 1:
        raise SystemExit(f"{m.path}: mutation text found {text.count(m.old)} times: {m.old!r}")
    return text.replace(m.old, m.new)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated mutant numbers (1-based)")
    parser.add_argument("--check", action="store_true", help="only check each mutation applies")
    args = parser.parse_args()
    chosen = (
        [int(k) for k in args.only.split(",")] if args.only else list(range(1, len(MUTANTS) + 1))
    )
    for k in chosen:
        m = MUTANTS[k - 1]
        _apply((ROOT / m.path).read_text(), m)
    if args.check:
        print(f"{len(chosen)} mutations apply cleanly.")
        return 0
    rows: list[str] = []
    caught = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation15-") as tmp:
        copy = Path(tmp)
        _copy(ROOT, copy)
        ok, why = _run_tests(copy, ())
        if ok:
            raise SystemExit(f"The unmutated tests fail in the copy: {why}")
        for k in chosen:
            m = MUTANTS[k - 1]
            path = copy / m.path
            original = path.read_text()
            path.write_text(_apply(original, m))
            try:
                hit, why = _run_tests(copy, m.first)
            finally:
                path.write_text(original)
            caught += hit
            if hit:
                result = f"caught by `{why}`"
            elif m.equivalent:
                result = f"survived (equivalent: {m.equivalent})"
            else:
                result = "**SURVIVED**"
            rows.append(
                f"| {k} | {_cell(m.rule)} | {m.place} (`{m.path}`) | {_cell(m.what)} | "
                f"{_cell(result)} |"
            )
            print(f"[{k}/{len(MUTANTS)}] {'caught' if hit else 'SURVIVED'} {why}", file=sys.stderr)
    minutes = (time.monotonic() - started) / 60
    print(f"Mutants: {len(chosen)}, caught: {caught}, survived: {len(chosen) - caught}")
    print(f"(tests: {' + '.join(TESTS)}, -x; {minutes:.0f} min).\n")
    print("| # | Rule | Place | Mutation | Result |")
    print("|---|------|-------|----------|--------|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
