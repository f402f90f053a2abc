//! The Gantt chart: the state history of a sample of task instances, one row each, grouped by
//! termination path, with each instance's terminate request marked.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::InstanceState;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, count, text};
use super::data::RunMeta;
use super::sample::GanttGroup;

const ROW_PX: u32 = 5;

pub struct Gantt<'a> {
    pub meta: &'a RunMeta,
    pub groups: &'a [GanttGroup],
    pub instances: u64,
    /// Right end of the time axis (µs).
    pub end: u64,
}

impl Gantt<'_> {
    fn rows(&self) -> usize {
        self.groups.iter().map(|g| g.rows.len()).sum()
    }
}

impl Chart for Gantt<'_> {
    fn name(&self) -> &'static str {
        "instance-states"
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, (190 + self.rows() as u32 * ROW_PX).max(420))
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let rows = self.rows();
        let title = format!(
            "{}: states of {} sampled task instances (of {}), grouped by termination path",
            self.meta.scenario,
            count(rows as u64),
            count(self.instances)
        );
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let (_, h) = area.dim_in_pixel();
        let (plot_area, legend) = area.split_vertically(h - 44);
        let unit = TimeUnit::for_span(self.end);
        let top = rows.max(1) as f64;
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
        let mut seen_states = [false; InstanceState::ALL.len()];
        let mut row = 0usize;
        for group in self.groups {
            for r in &group.rows {
                let (y0, y1) = (top - row as f64 - 1.0, top - row as f64);
                for (i, &(from, state)) in r.changes.iter().enumerate() {
                    let to = r.changes.get(i + 1).map_or(self.end, |c| c.0.micros());
                    seen_states[state.index()] = true;
                    // Final states are drawn pale so the active part of each life stands out.
                    let colour = canvas::state_colour(state);
                    let colour = if state.is_final() { canvas::tint(colour, 0.3) } else { colour };
                    let (b0, b1) = (y0 + 0.08, y1 - 0.08);
                    bars.push(Rectangle::new([(unit.of(from.micros()), b0), (unit.of(to), b1)], colour.filled()));
                }
                if let Some(t) = r.requested {
                    let x = unit.of(t.micros());
                    marks.push(PathElement::new(vec![(x, y0), (x, y1)], BLACK.stroke_width(2)));
                }
                row += 1;
            }
        }
        chart.draw_series(bars)?;
        chart.draw_series(marks)?;

        let label_style = text(canvas::TEXT_SIZE).pos(Pos::new(HPos::Right, VPos::Center));
        let mut start = 0usize;
        for group in self.groups {
            let n = group.rows.len();
            if start > 0 {
                let y = top - start as f64;
                let line = vec![(0.0, y), (unit.of(self.end), y)];
                chart.draw_series(std::iter::once(PathElement::new(line, RGBColor(90, 90, 90).stroke_width(1))))?;
            }
            let (px, py) = chart.backend_coord(&(0.0, top - start as f64 - n as f64 / 2.0));
            let label = format!("{}: {} of {}", group.path.as_str(), count(n as u64), count(group.total));
            root.draw(&Text::new(label, (px - 10, py), label_style.clone()))?;
            start += n;
        }

        let mut items: Vec<(String, RGBColor)> = InstanceState::ALL
            .iter()
            .filter(|s| seen_states[s.index()])
            .map(|&s| {
                let colour = canvas::state_colour(s);
                (s.as_str().to_owned(), if s.is_final() { canvas::tint(colour, 0.3) } else { colour })
            })
            .collect();
        items.push(("terminate request".to_owned(), BLACK));
        canvas::legend_strip(&legend, &items)
    }
}
