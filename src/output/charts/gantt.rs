//! The Gantt chart: the state history of a sample of task instances, one row each, grouped by
//! termination path, with each instance's terminate request marked.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::InstanceState;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, count, text};
use super::data::RunMeta;
use super::sample::GanttGroup;

const ROW_PX: u32 = 5;

pub(super) struct Gantt<'a> {
    pub meta: &'a RunMeta,
    pub groups: &'a [GanttGroup],
    pub instances: u64,
    /// Right end of the time axis (µs).
    pub end: u64,
}

/// A path's block is at least this high, so that its label fits even with a single row.
const MIN_GROUP_PX: u32 = 20;

impl Gantt<'_> {
    fn rows(&self) -> usize {
        self.groups.iter().map(|g| g.rows.len()).sum()
    }

    /// Height of each group's block, in pixels.
    fn heights(&self) -> Vec<u32> {
        self.groups.iter().map(|g| (g.rows.len() as u32 * ROW_PX).max(MIN_GROUP_PX)).collect()
    }
}

impl Chart for Gantt<'_> {
    fn name(&self) -> &str {
        "instance-states"
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, (190 + self.heights().iter().sum::<u32>()).max(420))
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let rows = self.rows() as u64;
        let title = format!(
            "{}: states of {} (of {}), grouped by termination path",
            canvas::title_name(self.meta),
            canvas::plural(rows, "sampled task instance"),
            count(self.instances)
        );
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let (_, h) = area.dim_in_pixel();
        let (plot_area, legend) = area.split_vertically(h - 44);
        let unit = TimeUnit::for_span(self.end);
        // The y axis counts pixels from the bottom, so that blocks can be taller than their rows.
        let heights = self.heights();
        let top = f64::from(heights.iter().sum::<u32>().max(1));
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(12)
            .x_label_area_size(52)
            .y_label_area_size(200)
            .build_cartesian_2d(0f64..unit.of(self.end).max(1e-6), 0f64..top)?;
        canvas::draw_axes(&mut chart, &format!("time since start ({})", unit.name), None)?;
        if rows == 0 {
            return canvas::note(&chart.plotting_area().strip_coord_spec(), "no task instances");
        }

        let mut bars = Vec::new();
        let mut marks = Vec::new();
        let mut drawn_states = [false; InstanceState::ALL.len()];
        let label_style = text(canvas::TEXT_SIZE).pos(Pos::new(HPos::Right, VPos::Center));
        let row_height = f64::from(ROW_PX);
        let mut block_top = top;
        for (group, &height) in self.groups.iter().zip(&heights) {
            let height = f64::from(height);
            // Rows are centred in their block.
            let first_row_top = block_top - (height - group.rows.len() as f64 * row_height) / 2.0;
            for (k, r) in group.rows.iter().enumerate() {
                let y1 = first_row_top - k as f64 * row_height;
                let (b0, b1) = (y1 - row_height + 0.4, y1 - 0.4);
                for (i, &(from, state)) in r.changes.iter().enumerate() {
                    let to = r.changes.get(i + 1).map_or(self.end, |c| c.0.micros());
                    drawn_states[state.index()] |= to > from.micros();
                    // Final states are drawn pale so the active part of each life stands out.
                    let colour = canvas::state_colour(state);
                    let colour = if state.is_final() { canvas::tint(colour, 0.3) } else { colour };
                    bars.push(Rectangle::new([(unit.of(from.micros()), b0), (unit.of(to), b1)], colour.filled()));
                }
                if let Some(t) = r.requested {
                    let x = unit.of(t.micros());
                    marks.push(PathElement::new(vec![(x, y1 - row_height), (x, y1)], BLACK.stroke_width(2)));
                }
            }
            if block_top < top {
                let line = vec![(0.0, block_top), (unit.of(self.end), block_top)];
                chart.draw_series(std::iter::once(PathElement::new(line, RGBColor(90, 90, 90).stroke_width(1))))?;
            }
            let (px, py) = chart.backend_coord(&(0.0, block_top - height / 2.0));
            let n = group.rows.len() as u64;
            let label = format!("{}: {} of {}", group.path.as_str(), count(n), count(group.total));
            root.draw(&Text::new(label, (px - 10, py), label_style.clone()))?;
            block_top -= height;
        }
        let any_mark = !marks.is_empty();
        chart.draw_series(bars)?;
        chart.draw_series(marks)?;

        let mut items: Vec<(String, RGBColor)> = InstanceState::ALL
            .iter()
            .filter(|s| drawn_states[s.index()])
            .map(|&s| {
                let colour = canvas::state_colour(s);
                (s.as_str().to_owned(), if s.is_final() { canvas::tint(colour, 0.3) } else { colour })
            })
            .collect();
        if any_mark {
            items.push(("terminate request (accepted)".to_owned(), BLACK));
        }
        canvas::legend_strip(&legend, &items)
    }
}
