//! One chart per metric: its mean against the first varied key, one line per combination of the
//! other keys, each point with its 95 % confidence interval as an error bar.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::spec::Sweep;
use super::stats::Estimate;
use crate::output::charts::canvas::{self, Area, Chart, DrawResult, text};

/// The chart of one metric of a sweep.
pub(super) struct MetricChart<'a> {
    /// The sweep.
    pub sweep: &'a Sweep,
    /// The metric's position in the sweep's list.
    pub metric: usize,
    /// Per point, per metric.
    pub estimates: &'a [Vec<Estimate>],
    /// The chart's file name, without extension (see [`file_name`]).
    pub file_name: String,
}

/// A file name for a metric's chart: the dotted path with anything unusual made `_`.
pub(super) fn file_name(metric: &str) -> String {
    metric.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

impl MetricChart<'_> {
    /// Lines drawn, plus one legend row saying how many were left out.
    fn legend_rows(&self) -> u32 {
        let lines = self.lines().len();
        (lines.min(canvas::SERIES.len()) + usize::from(lines > canvas::SERIES.len())) as u32
    }

    /// The lines: for each combination of the other keys, its label and its points in order of
    /// the first key's values. Points are numbered with the first key slowest, so a line's
    /// points are `rest`, `rest + stride`, … where `stride` is the number of combinations.
    fn lines(&self) -> Vec<(String, Vec<u64>)> {
        let sweep = self.sweep;
        let stride = sweep.points() / sweep.values[0].len() as u64;
        (0..stride)
            .map(|rest| {
                let coordinates = sweep.coordinates(rest);
                let label = if sweep.keys.len() == 1 {
                    "all runs".to_owned()
                } else {
                    (1..sweep.keys.len())
                        .map(|k| format!("{} = {}", sweep.keys[k], short(sweep.value_label(k, coordinates[k]))))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                (label, (0..sweep.values[0].len() as u64).map(|c| c * stride + rest).collect())
            })
            .collect()
    }
}

/// Long values (a list of clients, say) shortened for a label.
fn short(label: &str) -> String {
    const MAX: usize = 90;
    if label.chars().count() <= MAX {
        label.to_owned()
    } else {
        label.chars().take(MAX - 1).collect::<String>() + "…"
    }
}

impl Chart for MetricChart<'_> {
    fn name(&self) -> &str {
        &self.file_name
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, 560 + 24 * self.legend_rows())
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let sweep = self.sweep;
        let metric = &sweep.metrics[self.metric];
        let title = format!(
            "{}: {metric}, mean and 95 % CI of {} replication{}",
            sweep.name,
            sweep.replications,
            if sweep.replications == 1 { "" } else { "s" }
        );
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let lines = self.lines();
        let shown = &lines[..lines.len().min(canvas::SERIES.len())];
        let (_, h) = area.dim_in_pixel();
        let (area, legend) = area.split_vertically(h - 12 - 24 * self.legend_rows());

        let of = |point: u64| self.estimates[point as usize][self.metric];
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for (_, points) in shown {
            for &p in points {
                if let Some(mean) = of(p).mean {
                    let half = of(p).ci95.unwrap_or(0.0);
                    low = low.min(mean - half);
                    high = high.max(mean + half);
                }
            }
        }
        if !low.is_finite() {
            (low, high) = (0.0, 1.0);
        }
        let low = if low >= 0.0 { 0.0 } else { low - (high - low) * 0.05 };
        let high = if high > low { high + (high - low) * 0.08 } else { low + 1.0 };
        let categories = sweep.values[0].len();
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5f64..categories as f64 - 0.5, low..high)?;
        chart
            .configure_mesh()
            .x_labels(0)
            .disable_x_mesh()
            .x_desc(sweep.keys[0].as_str())
            .y_desc(metric.as_str())
            .y_label_formatter(&|v| canvas::number(*v))
            .label_style(text(canvas::TEXT_SIZE))
            .axis_desc_style(text(canvas::DESC_SIZE))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        // The first key's values as categories under the axis; with many, every k-th.
        let label_style = text(canvas::TEXT_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
        let every = categories.div_ceil(24);
        for i in (0..categories).step_by(every) {
            let (x, y) = chart.backend_coord(&(i as f64, low));
            root.draw(&Text::new(short(sweep.value_label(0, i)), (x, y + 8), label_style.clone()))?;
        }
        let spread = 0.04 * (shown.len() as f64 - 1.0).max(0.0);
        let mut labels = Vec::new();
        for (l, ((label, points), colour)) in shown.iter().zip(canvas::SERIES).enumerate() {
            // Lines side by side are nudged apart so their error bars do not hide each other.
            let nudge =
                if shown.len() > 1 { -spread / 2.0 + spread * l as f64 / (shown.len() - 1) as f64 } else { 0.0 };
            let at: Vec<(f64, Estimate)> = points
                .iter()
                .enumerate()
                .map(|(i, &p)| (i as f64 + nudge, of(p)))
                .filter(|(_, e)| e.mean.is_some())
                .collect();
            let style = colour.stroke_width(2);
            chart.draw_series(LineSeries::new(at.iter().map(|(x, e)| (*x, e.mean.expect("filtered"))), style))?;
            chart.draw_series(
                at.iter().map(|(x, e)| Circle::new((*x, e.mean.expect("filtered")), 4, colour.filled())),
            )?;
            for (x, e) in &at {
                if let (Some(mean), Some(half)) = (e.mean, e.ci95) {
                    let bar = vec![(*x, mean - half), (*x, mean + half)];
                    chart.draw_series(std::iter::once(PathElement::new(bar, colour.stroke_width(1))))?;
                    for y in [mean - half, mean + half] {
                        let cap = vec![(*x - 0.03, y), (*x + 0.03, y)];
                        chart.draw_series(std::iter::once(PathElement::new(cap, colour.stroke_width(1))))?;
                    }
                }
            }
            labels.push((label.clone(), colour));
        }
        if shown.iter().all(|(_, points)| points.iter().all(|&p| of(p).mean.is_none())) {
            canvas::note(&chart.plotting_area().strip_coord_spec(), &format!("no run gave a value for {metric}"))?;
        }
        if lines.len() > shown.len() {
            let more = lines.len() - shown.len();
            labels.push((format!("… and {more} more combinations, not drawn: see points.csv"), WHITE));
        }
        canvas::legend_list(&legend, &labels, 24)
    }
}
