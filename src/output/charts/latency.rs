//! Latency CDFs, one line per group and, when there are several, a dashed one for all:
//! - termination (request → `FAILED`) and release (request → CVM `TERMINATED` and quota freed),
//!   grouped by termination path;
//! - cancellation (an accepted cancel → `CANCELLED` or `TERMINATED`), grouped by service and by
//!   what the cancel found: a DLC task, a TAT task still undelivered, a TAT task running.

use plotters::prelude::*;

use crate::model::TerminationPath;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, number, text};
use super::data::{CancelGroup, RunMeta};
use super::series::{cdf_points, merge_sorted};
use crate::output::summary::percentile;

/// Points per CDF line: enough for a smooth curve, few enough for a small SVG.
const CDF_POINTS: usize = 600;

/// One line of a CDF chart.
pub(super) struct CdfLine<'a> {
    pub name: &'static str,
    pub colour: RGBColor,
    /// Latencies (µs), sorted.
    pub sorted: &'a [u64],
}

pub(super) struct LatencyCdf<'a> {
    pub meta: &'a RunMeta,
    /// The file name, without extension.
    pub file: &'static str,
    /// What is measured, for the title: `termination latency (request → instance FAILED)`.
    pub what: &'static str,
    /// The x axis' name, before the unit: `termination latency`.
    pub axis: &'static str,
    /// What is counted, singular: `instance`.
    pub noun: &'static str,
    /// What the lines are, for the title: `path`.
    pub by: &'static str,
    /// Lines of groups with at least one value.
    pub lines: Vec<CdfLine<'a>>,
    /// Every line's values together, sorted.
    pub all: Vec<u64>,
    /// The name of the dashed line of every group together.
    pub all_name: &'static str,
    /// Shown in place of the lines when there is no value.
    pub empty: &'static str,
}

impl<'a> LatencyCdf<'a> {
    /// The termination or release CDF, by path: `by_path` holds sorted latencies in
    /// `TerminationPath::ALL` order.
    pub(super) fn of_paths(meta: &'a RunMeta, termination: bool, by_path: &'a [Vec<u64>]) -> Self {
        let lines = TerminationPath::ALL
            .into_iter()
            .filter(|&p| !by_path[p as usize].is_empty())
            .map(|p| CdfLine { name: p.as_str(), colour: canvas::path_colour(p), sorted: &by_path[p as usize] })
            .collect::<Vec<_>>();
        let (file, what, axis, empty) = if termination {
            (
                "termination-latency-cdf",
                "termination latency (request → instance FAILED)",
                "termination latency",
                "no termination latency: no instance was terminated",
            )
        } else {
            (
                "release-latency-cdf",
                "release latency (request → CVM TERMINATED, quota freed)",
                "release latency",
                "no release latency: no instance was terminated",
            )
        };
        let all = merge_lines(&lines);
        LatencyCdf { meta, file, what, axis, noun: "instance", by: "path", lines, all, all_name: "all paths", empty }
    }

    /// The cancellation CDF, by [`CancelGroup`]: `by_group` holds sorted latencies in
    /// `CancelGroup::ALL` order.
    pub(super) fn of_cancellations(meta: &'a RunMeta, by_group: &'a [Vec<u64>]) -> Self {
        let lines = CancelGroup::ALL
            .into_iter()
            .filter(|&g| !by_group[g as usize].is_empty())
            .map(|g| CdfLine { name: g.label(), colour: canvas::SERIES[g as usize], sorted: &by_group[g as usize] })
            .collect::<Vec<_>>();
        LatencyCdf {
            meta,
            all: merge_lines(&lines),
            file: "cancel-latency-cdf",
            what: "cancel latency (accepted cancel → CANCELLED or TERMINATED)",
            axis: "cancel latency",
            noun: "task",
            by: "service and state",
            lines,
            all_name: "all",
            empty: "no cancel latency: no DLC or TAT task was cancelled",
        }
    }
}

impl Chart for LatencyCdf<'_> {
    fn name(&self) -> &str {
        self.file
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, 680)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let title = format!("{}: {}, CDF by {}", canvas::title_name(self.meta), self.what, self.by);
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let all = &self.all;
        let max = all.last().copied().unwrap_or(0);
        let unit = TimeUnit::for_span(max);
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..canvas::upper(unit.of(max)), 0f64..100.0)?;
        let y_desc = format!("{}s at or below (%)", self.noun);
        canvas::draw_axes(&mut chart, &format!("{} ({})", self.axis, unit.name), Some(&y_desc))?;
        if all.is_empty() {
            return canvas::note(&chart.plotting_area().strip_coord_spec(), self.empty);
        }
        let legend = |sorted: &[u64], name: &str| {
            format!(
                "{name}: {}, p50 {} {u}, p99 {} {u}",
                canvas::plural(sorted.len() as u64, self.noun),
                number(unit.of(percentile(sorted, 50))),
                number(unit.of(percentile(sorted, 99))),
                u = unit.name
            )
        };
        let points = |sorted: &[u64]| -> Vec<(f64, f64)> {
            cdf_points(sorted, CDF_POINTS).into_iter().map(|(v, share)| (unit.of(v), share * 100.0)).collect()
        };
        if self.lines.len() > 1 {
            let style = BLACK.stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new(points(all), 6, 4, style))?
                .label(legend(all, self.all_name))
                .legend(canvas::dashed_swatch(style));
        }
        for line in &self.lines {
            let style = line.colour.stroke_width(2);
            chart
                .draw_series(LineSeries::new(points(line.sorted), style))?
                .label(legend(line.sorted, line.name))
                .legend(canvas::line_swatch(style));
        }
        canvas::draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

fn merge_lines(lines: &[CdfLine]) -> Vec<u64> {
    lines.iter().fold(Vec::new(), |all, line| merge_sorted(&all, line.sorted))
}
