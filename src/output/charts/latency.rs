//! The latency CDFs: for termination (request → `FAILED`) or release (request → CVM
//! `TERMINATED` and quota freed), one line per termination path and one for all of them.

use plotters::prelude::*;

use crate::model::TerminationPath;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, number, text};
use super::data::RunMeta;
use super::series::cdf_points;
use crate::output::summary::percentile;

/// Points per CDF line: enough for a smooth curve, few enough for a small SVG.
const CDF_POINTS: usize = 600;

pub struct LatencyCdf<'a> {
    pub meta: &'a RunMeta,
    /// `termination` or `release`.
    pub kind: &'static str,
    /// Sorted latencies (µs) per path, in `TerminationPath::ALL` order.
    pub by_path: &'a [Vec<u64>],
    /// Sorted latencies of every path together.
    pub all: &'a [u64],
}

impl Chart for LatencyCdf<'_> {
    fn name(&self) -> &str {
        if self.kind == "termination" { "termination-latency-cdf" } else { "release-latency-cdf" }
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, 680)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let what = if self.kind == "termination" {
            "termination latency (request → instance FAILED)"
        } else {
            "release latency (request → CVM TERMINATED, quota freed)"
        };
        let title = format!("{}: {}, CDF by path", canvas::title_name(self.meta), what);
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let max = self.all.last().copied().unwrap_or(0);
        let unit = TimeUnit::for_span(max);
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..canvas::upper(unit.of(max)), 0f64..100.0)?;
        canvas::draw_axes(
            &mut chart,
            &format!("{} latency ({})", self.kind, unit.name),
            Some("instances at or below (%)"),
        )?;
        if self.all.is_empty() {
            return canvas::note(
                &chart.plotting_area().strip_coord_spec(),
                &format!("no {} latency: no instance was terminated", self.kind),
            );
        }
        let legend = |sorted: &[u64], name: &str| {
            format!(
                "{name}: {}, p50 {} {u}, p99 {} {u}",
                canvas::plural(sorted.len() as u64, "instance"),
                number(unit.of(percentile(sorted, 50))),
                number(unit.of(percentile(sorted, 99))),
                u = unit.name
            )
        };
        let points = |sorted: &[u64]| -> Vec<(f64, f64)> {
            cdf_points(sorted, CDF_POINTS).into_iter().map(|(v, share)| (unit.of(v), share * 100.0)).collect()
        };
        let paths: Vec<TerminationPath> =
            TerminationPath::ALL.into_iter().filter(|&p| !self.by_path[p as usize].is_empty()).collect();
        if paths.len() > 1 {
            let style = BLACK.stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new(points(self.all), 6, 4, style))?
                .label(legend(self.all, "all paths"))
                .legend(canvas::dashed_swatch(style));
        }
        for path in paths {
            let sorted = &self.by_path[path as usize];
            let style = canvas::path_colour(path).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points(sorted), style))?
                .label(legend(sorted, path.as_str()))
                .legend(canvas::line_swatch(style));
        }
        canvas::draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}
