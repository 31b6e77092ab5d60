"""A Gantt chart of a plan: one row (or lane) per resource, one bar per assignment."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QStyleOptionGraphicsItem,
    QWidget,
)

from planner import Assignment, PatientSchedule, Plan, Product, ResourceType, Scenario
from planner.checks import changeovers
from planner.replan import Pin, pin_steps
from planner.roles import Action

LABEL_WIDTH = 190
HEADER_HEIGHT = 40
ROW_HEIGHT = 26
BAR_MARGIN = 3
MIN_PX_PER_DAY = 6.0
MAX_PX_PER_DAY = 160.0

#: Distinct, print-friendly colours for products, in scenario order.
PRODUCT_COLOURS = (
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#d62728",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
)
CHANGEOVER_COLOUR = QColor("#9e9e9e")
#: The pin marker: a red head and outline on pinned bars.
PIN_COLOUR = QColor("#c62828")
UNKNOWN_COLOUR = QColor("#607d8b")

#: Resource kinds drawn on the chart (staff pools are capacities, not places).
DRAWN_TYPES = (
    ResourceType.APHERESIS,
    ResourceType.CLEANROOM,
    ResourceType.DEVICE,
    ResourceType.BED,
)

ResourceKey = tuple[ResourceType, str]


@dataclass(frozen=True)
class GanttRow:
    """One horizontal lane of the chart: a resource, and which of its lanes."""

    resource: ResourceKey
    label: str
    lane: int


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _fmt(t: datetime) -> str:
    return f"{t:%a %Y-%m-%d %H:%M}"


def _pack_lanes(assignments: Sequence[Assignment]) -> list[int]:
    """Lane of each assignment so that bars in one lane never overlap (first fit)."""
    order = sorted(range(len(assignments)), key=lambda i: (assignments[i].start, i))
    lane_ends: list[datetime] = []
    lanes = [0] * len(assignments)
    for i in order:
        a = assignments[i]
        for lane, end in enumerate(lane_ends):
            if end <= a.start:
                lanes[i] = lane
                lane_ends[lane] = a.end
                break
        else:
            lanes[i] = len(lane_ends)
            lane_ends.append(a.end)
    return lanes


def product_colours(scenario: Scenario) -> dict[str, QColor]:
    """The bar colour of each product of the scenario."""
    return {
        p.code: QColor(PRODUCT_COLOURS[i % len(PRODUCT_COLOURS)])
        for i, p in enumerate(scenario.products)
    }


class _LabelledRect(QGraphicsRectItem):
    """A filled rectangle drawing the longest of its labels that fits inside."""

    labels: tuple[str, ...] = ()
    #: The colour the text sits on, when it is not the item's own brush.
    backdrop: QColor | None = None
    #: Whether the bar is kept by a pin in re-plans (drawn with a pin marker).
    pinned: bool = False
    #: Pixels left free before the label (for a pin marker drawn underneath).
    indent_px: float = 0.0
    #: Whether a pinned rectangle draws the pin's head (only the first of a run does).
    marker: bool = True

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """The rectangle, a pin marker if pinned, then the longest label that fits."""
        super().paint(painter, option, widget)
        rect = self.rect()
        indent = self.indent_px
        if self.pinned:
            painter.save()
            painter.setPen(QPen(PIN_COLOUR, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
            if self.marker:
                radius = min(4.0, rect.height() / 3)
                painter.setBrush(QBrush(PIN_COLOUR))
                painter.setPen(QPen(QColor("white"), 1))
                head = QPointF(rect.left() + radius + 2, rect.center().y())
                painter.drawEllipse(head, radius, radius)
                indent = 2 * radius + 3
            painter.restore()
        metrics = QFontMetrics(painter.font())
        room = rect.width() - 6 - indent
        text = next((t for t in self.labels if t and metrics.horizontalAdvance(t) <= room), "")
        if not text:
            return
        dark = (self.backdrop or self.brush().color()).lightnessF() < 0.55
        painter.setPen(QColor("white") if dark else QColor("#202020"))
        painter.drawText(
            rect.adjusted(3 + indent, 0, -3, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            text,
        )


class GanttBar(_LabelledRect):
    """One assignment drawn as a bar, labelled with the patient code when it fits."""

    def __init__(self, assignment: Assignment, rect: QRectF, colour: QColor) -> None:
        super().__init__(rect)
        self.assignment = assignment
        a = assignment
        self.labels = (f"{a.patient_code} {a.step_code}", a.patient_code)
        if a.step_code == "changeover":
            self.labels = ()
            self.setBrush(QBrush(colour, Qt.BrushStyle.BDiagPattern))
        elif a.step_code == "hold":
            self.setBrush(QBrush(colour.lighter(150)))
        else:
            self.setBrush(QBrush(colour))
        self.setPen(QPen(colour.darker(140), 1))
        hours = (a.end - a.start).total_seconds() / 3600.0
        where = f"{a.resource_type.value} {a.resource_code}".strip()
        self.setToolTip(
            f"<b>{a.patient_code}</b> ({a.product_code})<br>step: {a.step_code}<br>"
            f"resource: {where}<br>start: {_fmt(a.start)}<br>end: {_fmt(a.end)}"
            f"<br>{hours:.0f} h"
        )


class SpanLabel(_LabelledRect):
    """A patient's code across consecutive bars of one lane (e.g. seed, hold, expand)."""

    def __init__(self, patient_code: str, rect: QRectF, backdrop: QColor) -> None:
        super().__init__(rect)
        self.labels = (patient_code,)
        self.backdrop = backdrop
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.setZValue(1)


class ChainSegment(_LabelledRect):
    """One phase of a patient's vein-to-vein chain (apheresis, manufacturing, QC, ...)."""

    def __init__(
        self,
        patient_code: str,
        phase: str,
        start: datetime,
        end: datetime,
        rect: QRectF,
        colour: QColor,
    ) -> None:
        super().__init__(rect)
        self.patient_code = patient_code
        self.phase = phase
        self.labels = (phase,)
        self.setBrush(QBrush(colour))
        self.setPen(QPen(colour.darker(130), 1))
        self.setToolTip(
            f"<b>{patient_code}</b>: {phase}<br>from {start:%a %Y-%m-%d}"
            f"<br>to {end:%a %Y-%m-%d %H:%M}"
        )


def chain_phases(schedule: PatientSchedule) -> list[tuple[str, datetime, datetime]]:
    """The phases of a patient's chain as (name, start, end), from the plan's milestones."""
    s = schedule
    phases = [
        ("apheresis", _midnight(s.apheresis_day), _midnight(s.apheresis_day + timedelta(days=1))),
        ("manufacturing", s.manufacturing_start, s.manufacturing_end),
        ("QC release", s.manufacturing_end, _midnight(s.release_day + timedelta(days=1))),
        ("lymphodepletion", _midnight(s.ld_start_day), _midnight(s.infusion_day)),
        ("in-patient", _midnight(s.bed_from), _midnight(s.bed_to + timedelta(days=1))),
    ]
    return [(name, start, end) for name, start, end in phases if start < end]


#: Chain phases and the step a pin on them names (None: only the whole chain).
_PHASE_STEPS = {"apheresis": "apheresis", "lymphodepletion": "infusion", "in-patient": "infusion"}


class GanttView(QGraphicsView):
    """A plan over the horizon: x in days with date labels, y one lane per resource.

    The header (dates) and the row labels stay in place while scrolling.
    Ctrl+wheel zooms; until the user zooms the horizon fits the view's width.
    A right click on a bar offers Pin / Unpin (`pin_requested(Pin, pin: bool)`) and
    recording the patient's failed batch (`failed_batch_requested(code)`).
    """

    pin_requested = Signal(object, bool)
    #: A patient's batch failed: the window asks the day and records it.
    failed_batch_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pins: tuple[Pin, ...] = ()
        #: Why the user may not take an action (None: they may); set by the window.
        self.refusal: Callable[[Action], str | None] = lambda _action: None
        self.setScene(QGraphicsScene(self))
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        # The sticky header and labels are painted per frame; scrolling must repaint.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self._scenario: Scenario | None = None
        self._plan: Plan | None = None
        self._rows: list[GanttRow] = []
        self._bars: list[GanttBar] = []
        self._placement: list[tuple[Assignment, int]] = []
        self._chains: list[tuple[PatientSchedule, int]] = []
        self._segments: list[ChainSegment] = []
        self._colours: dict[str, QColor] = {}
        self._t0 = datetime(2000, 1, 1)
        self._days = 1
        self._px_per_day = 20.0
        self._auto_fit = True

    # Public API -----------------------------------------------------------------------

    def set_plan(self, scenario: Scenario, plan: Plan | None) -> None:
        """Show a plan of a scenario (None: only the resources and the calendar)."""
        self._scenario = scenario
        self._plan = plan
        self._colours = product_colours(scenario)
        assignments = (
            [
                a
                for a in (*plan.assignments, *changeovers(scenario, plan.assignments))
                if a.resource_type in DRAWN_TYPES
            ]
            if plan
            else []
        )
        start = _midnight(scenario.horizon_start)
        end = _midnight(scenario.horizon_end + timedelta(days=1))
        schedules = (
            sorted(plan.schedules, key=lambda s: (s.apheresis_day, s.patient_code)) if plan else []
        )
        starts = [a.start for a in assignments] + [_midnight(s.apheresis_day) for s in schedules]
        ends = [a.end for a in assignments] + [
            _midnight(s.bed_to + timedelta(days=1)) for s in schedules
        ]
        if starts:
            start = min(start, _midnight(min(starts).date()))
            last = max(ends)
            end = max(
                end, _midnight(last.date()) + (timedelta(days=1) if last.time() else timedelta())
            )
        self._t0 = start
        self._days = max(1, (end - start).days)
        self._rows, self._placement = self._layout(scenario, assignments)
        self._chains = []
        for schedule in schedules:
            self._chains.append((schedule, len(self._rows)))
            label = f"{schedule.patient_code} ({schedule.product_code})"
            self._rows.append(GanttRow((ResourceType.NONE, schedule.patient_code), label, 0))
        if self._auto_fit:
            self._px_per_day = self._fitting_px_per_day()
        self._rebuild()

    def set_pins(self, pins: Iterable[Pin]) -> None:
        """Mark the bars these pins keep."""
        self._pins = tuple(pins)
        if self._scenario is not None:
            self._rebuild()

    def pinned_steps(self, patient_code: str) -> frozenset[str] | None:
        """The steps of a patient a pin keeps (every one: its chain's step codes plus
        every other row of it), or None if it has no pin."""
        pins = [p for p in self._pins if p.patient_code == patient_code]
        product = self._product_of(patient_code)
        if not pins or product is None:
            return None
        steps = pin_steps(product)
        if any(p.step_code in (None, "infusion") for p in pins):
            return frozenset({"*"})
        last = max(steps.index(p.step_code) for p in pins if p.step_code in steps)
        kept = set(steps[: last + 1])
        if "hold" not in kept and len(kept) > 2:
            kept.add("hold")
        return frozenset(kept)

    def _product_of(self, patient_code: str) -> Product | None:
        scenario = self._scenario
        if scenario is None:
            return None
        found = next((p for p in scenario.patients if p.code == patient_code), None)
        return None if found is None else scenario.product(found.product_code)

    def _is_pinned(self, patient_code: str, step: str) -> bool:
        kept = self.pinned_steps(patient_code)
        return kept is not None and ("*" in kept or step in kept)

    def pin_target(self, item: QGraphicsItem | None) -> tuple[str, str | None] | None:
        """The patient and the step (None: none a pin can name) of a bar or chain phase."""
        if isinstance(item, GanttBar):
            a = item.assignment
            if a.step_code == "changeover":
                return None
            product = self._product_of(a.patient_code)
            steps = () if product is None else pin_steps(product)
            step = "infusion" if a.step_code == "inpatient" else a.step_code
            return a.patient_code, step if step in steps else None
        if isinstance(item, ChainSegment):
            return item.patient_code, _PHASE_STEPS.get(item.phase)
        return None

    def pin_actions(self, item: QGraphicsItem | None, parent: QMenu) -> list[QAction]:
        """Pin the whole chain, pin up to this step, unpin: the actions for a bar."""
        target = self.pin_target(item)
        if target is None:
            return []
        patient, step = target
        actions = []

        refused = self.refusal(Action.PIN)

        def add(text: str, pin: Pin, on: bool) -> None:
            action = QAction(text, parent)
            action.triggered.connect(lambda: self.pin_requested.emit(pin, on))
            _grey(action, refused)
            actions.append(action)

        add(f"Pin {patient} (whole chain)", Pin(patient), True)
        if step is not None and step != "infusion":
            add(f"Pin {patient} up to {step}", Pin(patient, step), True)
        if any(p.patient_code == patient for p in self._pins):
            add(f"Unpin {patient}", Pin(patient), False)
        return actions

    def bar_actions(self, item: QGraphicsItem | None, parent: QMenu) -> list[QAction]:
        """The pin actions for a bar, then recording its patient's failed batch."""
        actions = self.pin_actions(item, parent)
        target = self.pin_target(item)
        if target is not None:
            patient = target[0]
            action = QAction(f"Record a failed batch of {patient}…", parent)
            action.triggered.connect(lambda: self.failed_batch_requested.emit(patient))
            _grey(action, self.refusal(Action.EDIT_PATIENTS))
            actions.append(action)
        return actions

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Right click on a bar: Pin / Unpin its patient or its chain up to the step, or
        record its failed batch."""
        item = self.itemAt(event.pos())
        while item is not None and not isinstance(item, GanttBar | ChainSegment):
            item = item.parentItem()
        menu = QMenu(self)
        menu.setToolTipsVisible(True)  # a greyed entry says why
        actions = self.bar_actions(item, menu)
        if not actions:
            super().contextMenuEvent(event)
            return
        for action in actions:
            menu.addAction(action)
        menu.exec(event.globalPos())

    def rows(self) -> list[GanttRow]:
        """The chart's lanes, top to bottom."""
        return list(self._rows)

    def resources(self) -> list[ResourceKey]:
        """The resources shown, each once, top to bottom (not the patients' chain rows)."""
        seen: list[ResourceKey] = []
        for row in self._rows:
            if row.resource[0] is not ResourceType.NONE and row.resource not in seen:
                seen.append(row.resource)
        return seen

    def bars(self) -> list[GanttBar]:
        """The bars on the chart."""
        return list(self._bars)

    def segments(self) -> list[ChainSegment]:
        """The phases drawn on the patients' chain rows."""
        return list(self._segments)

    def legend(self) -> list[tuple[str, QColor]]:
        """Product codes and their bar colours."""
        return list(self._colours.items())

    @property
    def px_per_day(self) -> float:
        """Horizontal scale."""
        return self._px_per_day

    def zoom(self, factor: float, anchor: float | None = None) -> None:
        """Scale time by factor, keeping the moment under view x-coordinate anchor in place."""
        self._auto_fit = False
        anchor = LABEL_WIDTH + 0.0 if anchor is None else anchor
        bar = self.horizontalScrollBar()
        day = (bar.value() + anchor - LABEL_WIDTH) / self._px_per_day
        self._px_per_day = min(MAX_PX_PER_DAY, max(MIN_PX_PER_DAY, self._px_per_day * factor))
        self._rebuild()
        bar.setValue(round(LABEL_WIDTH + day * self._px_per_day - anchor))

    def fit_width(self) -> None:
        """Fit the whole time window into the view's width and keep fitting on resize."""
        self._auto_fit = True
        self._px_per_day = self._fitting_px_per_day()
        self._rebuild()

    def x_of(self, t: datetime) -> float:
        """Scene x-coordinate of a moment."""
        return LABEL_WIDTH + (t - self._t0).total_seconds() / 86400.0 * self._px_per_day

    # Layout ---------------------------------------------------------------------------

    def _layout(
        self, scenario: Scenario, assignments: Sequence[Assignment]
    ) -> tuple[list[GanttRow], list[tuple[Assignment, int]]]:
        """Rows per resource (lanes where bars overlap) and each assignment's row index."""
        resources: list[tuple[ResourceKey, str, int]] = []
        by_resource: dict[ResourceKey, list[Assignment]] = {}
        for a in assignments:
            by_resource.setdefault((a.resource_type, a.resource_code), []).append(a)
        apheresis = [k for k in by_resource if k[0] is ResourceType.APHERESIS]
        if not apheresis:
            apheresis = [(ResourceType.APHERESIS, "apheresis")]
        for key in apheresis:
            resources.append((key, "Apheresis", 1))
        for room in scenario.cleanrooms:
            resources.append(((ResourceType.CLEANROOM, room.code), f"{room.code} {room.name}", 1))
        for device in scenario.devices:
            resources.append(
                ((ResourceType.DEVICE, device.code), f"{device.code} {device.name}", 1)
            )
        ward = scenario.ward
        max_beds = max([ward.beds] + [c.beds for c in ward.changes])
        resources.append(((ResourceType.BED, ward.code), f"{ward.code} bed", max(1, max_beds)))
        known = {key for key, _, _ in resources}
        for key in by_resource:
            if key not in known:
                resources.append((key, key[1] or key[0].value, 1))

        rows: list[GanttRow] = []
        placement: list[tuple[Assignment, int]] = []
        for key, label, min_lanes in resources:
            items = by_resource.get(key, [])
            lanes = _pack_lanes(items)
            n = max(min_lanes, 1 + max(lanes, default=0))
            first = len(rows)
            for lane in range(n):
                if key[0] is ResourceType.BED:
                    text = f"{label} {lane + 1}"
                else:
                    text = label if lane == 0 else f"{label} ({lane + 1})"
                rows.append(GanttRow(key, text, lane))
            placement += [(a, first + lane) for a, lane in zip(items, lanes, strict=True)]
        return rows, placement

    def _fitting_px_per_day(self) -> float:
        width = self.viewport().width() - LABEL_WIDTH - 4
        return min(MAX_PX_PER_DAY, max(MIN_PX_PER_DAY, width / self._days))

    def _rebuild(self) -> None:
        scene = self.scene()
        scene.clear()
        self._bars = []
        for a, row in self._placement:
            x0, x1 = self.x_of(a.start), self.x_of(a.end)
            y = HEADER_HEIGHT + row * ROW_HEIGHT + BAR_MARGIN
            rect = QRectF(x0, y, max(2.0, x1 - x0), ROW_HEIGHT - 2 * BAR_MARGIN)
            if a.step_code == "changeover":
                colour = CHANGEOVER_COLOUR
            else:
                colour = self._colours.get(a.product_code, UNKNOWN_COLOUR)
            bar = GanttBar(a, rect, colour)
            bar.pinned = a.step_code != "changeover" and self._is_pinned(
                a.patient_code, "infusion" if a.step_code == "inpatient" else a.step_code
            )
            scene.addItem(bar)
            self._bars.append(bar)
        self._label_spans()
        self._segments = []
        for schedule, row in self._chains:
            y = HEADER_HEIGHT + row * ROW_HEIGHT + BAR_MARGIN + 3
            product = self._colours.get(schedule.product_code, UNKNOWN_COLOUR)
            phase_colours = {
                "apheresis": product.darker(130),
                "manufacturing": product,
                "QC release": QColor("#c9ced6"),
                "lymphodepletion": QColor("#f4b183"),
                "in-patient": product.lighter(165),
            }
            for phase, t0, t1 in chain_phases(schedule):
                x0, x1 = self.x_of(t0), self.x_of(t1)
                rect = QRectF(x0, y, max(2.0, x1 - x0), ROW_HEIGHT - 2 * BAR_MARGIN - 6)
                segment = ChainSegment(
                    schedule.patient_code, phase, t0, t1, rect, phase_colours[phase]
                )
                kept = self.pinned_steps(schedule.patient_code)
                segment.pinned = kept is not None and (
                    "*" in kept
                    or phase == "apheresis"
                    or (phase == "manufacturing" and len(kept) > 1)
                )
                scene.addItem(segment)
                self._segments.append(segment)
        width = LABEL_WIDTH + self._days * self._px_per_day + 2
        height = HEADER_HEIGHT + len(self._rows) * ROW_HEIGHT + 2
        scene.setSceneRect(QRectF(0, 0, width, height))
        self.viewport().update()

    def _label_spans(self) -> None:
        """One label per run of touching bars of a patient in a lane, instead of none."""
        runs: list[list[GanttBar]] = []
        for bar in sorted(self._bars, key=lambda b: (b.rect().top(), b.rect().left())):
            a = bar.assignment
            if a.step_code == "changeover":
                continue
            last = runs[-1][-1] if runs else None
            if (
                last is not None
                and last.rect().top() == bar.rect().top()
                and last.assignment.patient_code == a.patient_code
                and last.assignment.end >= a.start
            ):
                runs[-1].append(bar)
            else:
                runs.append([bar])
        for run in runs:
            if len(run) < 2:
                continue
            rect = run[0].rect().united(run[-1].rect())
            for bar in run:
                bar.labels = ()
                bar.marker = bar is run[0]
            main = max(run, key=lambda b: b.rect().width())
            label = SpanLabel(run[0].assignment.patient_code, rect, main.brush().color())
            if run[0].pinned:
                label.indent_px = 2 * min(4.0, rect.height() / 3) + 3
            self.scene().addItem(label)

    # Events ---------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Ctrl+wheel zooms time around the cursor; the plain wheel scrolls."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.zoom(1.25**steps, event.position().x())
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the horizon fitted to the width until the user zooms."""
        super().resizeEvent(event)
        if self._auto_fit and self._scenario is not None:
            px = self._fitting_px_per_day()
            if abs(px - self._px_per_day) > 0.01:
                self._px_per_day = px
                self._rebuild()

    # Painting -------------------------------------------------------------------------

    def _days_in(self, left: float, right: float) -> Iterable[tuple[int, date]]:
        first = max(0, int((left - LABEL_WIDTH) // self._px_per_day))
        last = min(self._days, int((right - LABEL_WIDTH) // self._px_per_day) + 1)
        for i in range(first, last):
            yield i, (self._t0 + timedelta(days=i)).date()

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        """Weekends, holidays, outside-horizon shading, row bands and day/week lines."""
        rect = QRectF(rect)
        painter.fillRect(rect, QColor("white"))
        scenario = self._scenario
        if scenario is None:
            return
        ppd = self._px_per_day
        top = HEADER_HEIGHT
        bottom = HEADER_HEIGHT + len(self._rows) * ROW_HEIGHT
        # Alternate bands per resource, not per lane, so a resource's lanes read as one.
        band = 0
        previous: ResourceKey | None = None
        for i, row in enumerate(self._rows):
            if previous is not None and row.resource != previous:
                band += 1
            previous = row.resource
            if band % 2:
                y = top + i * ROW_HEIGHT
                painter.fillRect(
                    QRectF(rect.left(), y, rect.width(), ROW_HEIGHT), QColor("#f7f9fc")
                )
        holidays = scenario.holiday_dates
        for i, day in self._days_in(rect.left(), rect.right()):
            x = LABEL_WIDTH + i * ppd
            column = QRectF(x, top, ppd, bottom - top)
            if day < scenario.horizon_start or day > scenario.horizon_end:
                painter.fillRect(column, QBrush(QColor("#d0d0d0"), Qt.BrushStyle.Dense6Pattern))
            elif day in holidays:
                painter.fillRect(column, QColor("#fde9d9"))
            elif day.weekday() >= 5:
                painter.fillRect(column, QColor("#eeeeee"))
        day_pen = QPen(QColor("#e2e2e2"), 0)
        week_pen = QPen(QColor("#8a8a8a"), 0)
        for i, day in self._days_in(rect.left(), rect.right() + ppd):
            x = LABEL_WIDTH + i * ppd
            if day.weekday() == 0:
                painter.setPen(week_pen)
            elif ppd >= 8:
                painter.setPen(day_pen)
            else:
                continue
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
        painter.setPen(QPen(QColor("#c8c8c8"), 0))
        previous = None
        for i, row in enumerate(self._rows):
            if row.resource != previous:
                y = top + i * ROW_HEIGHT
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            previous = row.resource
        painter.drawLine(QPointF(rect.left(), bottom), QPointF(rect.right(), bottom))
        today = date.today()
        if scenario.horizon_start <= today <= scenario.horizon_end:
            x = self.x_of(_midnight(today))
            painter.setPen(QPen(QColor("#d62728"), 2))
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        """The date header and the resource labels, pinned to the view's top and left."""
        if self._scenario is None:
            return
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        left, top = visible.left(), visible.top()
        ppd = self._px_per_day
        font = QFont(self.font())
        painter.setFont(font)
        metrics = QFontMetrics(font)

        # Header: week labels on Mondays, day numbers when there is room.
        header = QRectF(left, top, visible.width(), HEADER_HEIGHT)
        painter.fillRect(header, QColor("#f3f4f6"))
        painter.setPen(QPen(QColor("#8a8a8a"), 0))
        painter.drawLine(header.bottomLeft(), header.bottomRight())
        half = HEADER_HEIGHT / 2
        week_width = 7 * ppd
        day_numbers = ppd >= metrics.horizontalAdvance("30") + 2
        for i, day in self._days_in(left - week_width, visible.right()):
            x = LABEL_WIDTH + i * ppd
            if day.weekday() == 0:
                painter.setPen(QPen(QColor("#8a8a8a"), 0))
                painter.drawLine(QPointF(x, top), QPointF(x, top + HEADER_HEIGHT))
                week = f"W{day.isocalendar().week:02d}"
                dated = (
                    (f"{week}  {day:%d %b %Y}", f"{week} {day:%d %b}", f"{day:%d %b}")
                    if day_numbers
                    else (f"{week}  {day:%Y}",)
                )
                for text in (
                    *dated,
                    week,
                ):
                    if metrics.horizontalAdvance(text) <= week_width - 6:
                        painter.setPen(QColor("#202020"))
                        painter.drawText(
                            QRectF(x + 3, top, week_width - 4, half),
                            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                            text,
                        )
                        break
            label = str(day.day) if day_numbers else ""
            if ppd >= metrics.horizontalAdvance("Mo 30") + 6:
                label = f"{day:%a}"[:2] + f" {day.day}"
            if not label and day.weekday() == 0:
                # Too narrow for day numbers: date the week on its Monday instead.
                short = f"{day.day} {day:%b}"
                if metrics.horizontalAdvance(short) <= week_width - 6:
                    painter.setPen(QColor("#4b5563"))
                    painter.drawText(
                        QRectF(x + 3, top + half, week_width - 4, half),
                        Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                        short,
                    )
            if label:
                weekend = day.weekday() >= 5
                painter.setPen(QColor("#9a3412" if weekend else "#4b5563"))
                painter.drawText(
                    QRectF(x, top + half, ppd, half),
                    Qt.AlignmentFlag.AlignCenter,
                    label,
                )

        # Row labels.
        column = QRectF(left, top, LABEL_WIDTH, visible.height())
        painter.fillRect(column, QColor("#f3f4f6"))
        previous: ResourceKey | None = None
        for i, row in enumerate(self._rows):
            y = HEADER_HEIGHT + i * ROW_HEIGHT
            if y + ROW_HEIGHT < top + HEADER_HEIGHT or y > visible.bottom():
                continue
            if row.resource != previous:
                painter.setPen(QPen(QColor("#c8c8c8"), 0))
                painter.drawLine(QPointF(left, y), QPointF(left + LABEL_WIDTH, y))
            previous = row.resource
            painter.setPen(QColor("#202020"))
            text = metrics.elidedText(row.label, Qt.TextElideMode.ElideRight, LABEL_WIDTH - 12)
            painter.drawText(
                QRectF(left + 8, y, LABEL_WIDTH - 12, ROW_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                text,
            )
        painter.setPen(QPen(QColor("#8a8a8a"), 0))
        painter.drawLine(
            QPointF(left + LABEL_WIDTH, top), QPointF(left + LABEL_WIDTH, visible.bottom())
        )

        # Corner above the labels, over both.
        corner = QRectF(left, top, LABEL_WIDTH, HEADER_HEIGHT)
        painter.fillRect(corner, QColor("#e5e7eb"))
        painter.setPen(QColor("#202020"))
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(
            corner.adjusted(8, 0, -4, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            "Resource",
        )
        painter.setFont(font)


def _grey(action: QAction, refused: str | None) -> None:
    """Grey a menu entry the user's role does not allow, with the reason as its tooltip."""
    if refused is not None:
        action.setEnabled(False)
        action.setToolTip(refused)
