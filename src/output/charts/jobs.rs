//! Per job that received a TerminateJob: the share of its instances in a final state over time,
//! with the request marked. The asynchronous walk of SPEC §1.5 shows as the slope after it.

use plotters::prelude::*;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, count, number, text};
use super::data::RunMeta;
use super::sample::JobProgress;

/// Jobs drawn at most; the rest are named in the caption.
const MAX_JOBS: usize = canvas::SERIES.len();

pub struct JobTermination<'a> {
    pub meta: &'a RunMeta,
    pub jobs: &'a [JobProgress],
}

impl Chart for JobTermination<'_> {
    fn name(&self) -> &'static str {
        "job-termination"
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, 640)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let mut title = format!("{}: TerminateJob progress, share of each job's instances final", self.meta.scenario);
        if self.jobs.len() > MAX_JOBS {
            title.push_str(&format!(" (first {MAX_JOBS} of {} jobs)", self.jobs.len()));
        }
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let shown = &self.jobs[..self.jobs.len().min(MAX_JOBS)];
        // The interesting part ends when the last shown job is done: zoom there.
        let last = shown.iter().map(|j| j.last_change.max(j.requested).micros()).max().unwrap_or(0);
        let end = (last + last / 20).max(1);
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
        for (job, colour) in shown.iter().zip(canvas::SERIES) {
            let id = &self.meta.jobs[job.job as usize].id;
            let share = |v: u64| v as f64 * 100.0 / job.instances.max(1) as f64;
            let points: Vec<(f64, f64)> =
                job.final_count.polyline(end).into_iter().map(|(t, v)| (unit.of(t), share(v))).collect();
            let done = match job.all_final {
                Some(t) => format!("all final at {} {}", number(unit.of(t.micros())), unit.name),
                None => "not all final".to_owned(),
            };
            let label = format!(
                "{id} ({} instances): TerminateJob at {} {}, {done}",
                count(job.instances),
                number(unit.of(job.requested.micros())),
                unit.name
            );
            let style = colour.stroke_width(2);
            chart
                .draw_series(LineSeries::new(points, style))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            let x = unit.of(job.requested.micros());
            chart.draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, 105.0)], 5, 4, colour.stroke_width(1)))?;
        }
        canvas::draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}
