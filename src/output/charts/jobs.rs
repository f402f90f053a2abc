//! Per job that received a TerminateJob: the share of its instances in a final state over time,
//! with the request marked. The asynchronous walk of SPEC §1.5 shows as the slope after it.

use plotters::prelude::*;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, number, text};
use super::data::RunMeta;
use super::sample::JobProgress;

/// Jobs drawn at most; the title says how many there were.
const MAX_JOBS: usize = canvas::SERIES.len();

/// The legend is a list under the plot, where it cannot hide a line.
const LEGEND_ROW_PX: u32 = 24;

pub(super) struct JobTermination<'a> {
    pub meta: &'a RunMeta,
    pub jobs: &'a [JobProgress],
}

impl Chart for JobTermination<'_> {
    fn name(&self) -> &str {
        "job-termination"
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, 600 + LEGEND_ROW_PX * self.jobs.len().clamp(1, MAX_JOBS) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let mut title =
            format!("{}: TerminateJob progress, share of each job's instances final", canvas::title_name(self.meta));
        if self.jobs.len() > MAX_JOBS {
            title.push_str(&format!(" (first {MAX_JOBS} of {} jobs)", self.jobs.len()));
        }
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let shown = &self.jobs[..self.jobs.len().min(MAX_JOBS)];
        let (_, h) = area.dim_in_pixel();
        let (area, legend) = area.split_vertically(h - 12 - LEGEND_ROW_PX * shown.len().max(1) as u32);
        // The interesting part ends when the last shown job is done: zoom there.
        let last =
            shown.iter().map(|j| j.last_change.max(j.requested).micros()).max().unwrap_or(self.meta.sim_end.micros());
        let end = (last + last / 20).max(1_000_000);
        let unit = TimeUnit::for_span(end);
        let x_end = unit.of(end);
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..x_end, 0f64..105.0)?;
        canvas::draw_axes(&mut chart, &format!("time since start ({})", unit.name), Some("instances final (%)"))?;
        if shown.is_empty() {
            return canvas::note(&chart.plotting_area().strip_coord_spec(), "no TerminateJob was accepted in this run");
        }
        let mut labels = Vec::new();
        for (job, colour) in shown.iter().zip(canvas::SERIES) {
            let id = &self.meta.jobs[job.job as usize].id;
            let share = |v: u64| v as f64 * 100.0 / job.instances.max(1) as f64;
            let points: Vec<(f64, f64)> =
                job.final_count.polyline(end).into_iter().map(|(t, v)| (unit.of(t), share(v))).collect();
            let done = match job.all_final {
                Some(t) if t <= job.requested => {
                    format!("already all final at {} {}", number(unit.of(t.micros())), unit.name)
                }
                Some(t) => format!("all final at {} {}", number(unit.of(t.micros())), unit.name),
                None => "not all final".to_owned(),
            };
            let label = format!(
                "{id} ({}): TerminateJob at {} {}, {done}",
                canvas::plural(job.instances, "instance"),
                number(unit.of(job.requested.micros())),
                unit.name
            );
            let style = colour.stroke_width(2);
            chart.draw_series(LineSeries::new(points, style))?;
            labels.push((label, colour));
            let x = unit.of(job.requested.micros());
            chart.draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, 105.0)], 5, 4, colour.stroke_width(1)))?;
        }
        canvas::legend_list(&legend, &labels, LEGEND_ROW_PX)
    }
}
