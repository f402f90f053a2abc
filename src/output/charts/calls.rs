//! Public API calls per second, one panel per action: accepted, rate-limited
//! (`RequestLimitExceeded`) and other errors, stacked.

use plotters::prelude::*;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, count, text};
use super::data::{ACCEPTED, ActionCalls, CallCounts, OTHER_ERROR, RATE_LIMITED, RunMeta};
use crate::model::ErrorCode;

/// Most bars across a panel; longer runs get wider bins.
const MAX_BINS: u64 = 600;
const BIN_SECONDS: [u64; 17] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400];

const PANEL_PX: u32 = 300;

/// The narrowest bin (seconds) that keeps a span of `seconds` within [`MAX_BINS`] bars.
pub(super) fn bin_seconds(seconds: u64) -> u64 {
    BIN_SECONDS.into_iter().find(|&b| seconds.div_ceil(b) <= MAX_BINS).unwrap_or_else(|| seconds.div_ceil(MAX_BINS))
}

pub(super) struct Calls<'a> {
    pub meta: &'a RunMeta,
    /// Sorted by action name.
    pub actions: &'a [ActionCalls],
}

const KINDS: [(usize, &str, RGBColor); 3] = [
    (ACCEPTED, "accepted", RGBColor(60, 165, 80)),
    (RATE_LIMITED, ErrorCode::RequestLimitExceeded.as_str(), RGBColor(245, 130, 40)),
    (OTHER_ERROR, "other errors", RGBColor(120, 120, 120)),
];

impl Chart for Calls<'_> {
    fn name(&self) -> &str {
        "api-calls"
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, 110 + PANEL_PX * self.actions.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let title = format!("{}: API calls per second, accepted vs rate-limited", canvas::title_name(self.meta));
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let (_, h) = area.dim_in_pixel();
        let (panels_area, legend) = area.split_vertically(h - 44);
        // The axis ends a little after the last call: calls are usually a burst in a long run.
        let last_second =
            self.actions.iter().filter_map(|a| a.per_second.keys().next_back()).max().map_or(0, |s| s + 1);
        let span = (last_second + last_second / 20).max(10);
        let bin = bin_seconds(span);
        let unit = TimeUnit::for_span(span * 1_000_000);
        let x_end = unit.of(span.div_ceil(bin) * bin * 1_000_000);
        if self.actions.is_empty() {
            let mut chart = ChartBuilder::on(&panels_area)
                .margin(16)
                .x_label_area_size(52)
                .y_label_area_size(80)
                .build_cartesian_2d(0f64..x_end, 0f64..1.0)?;
            canvas::draw_axes(&mut chart, &format!("time since start ({})", unit.name), Some("calls per second"))?;
            return canvas::note(&chart.plotting_area().strip_coord_spec(), "no API calls in this run");
        }
        let panels = panels_area.split_evenly((self.actions.len(), 1));
        for (action, panel) in self.actions.iter().zip(&panels) {
            let mut bins: Vec<(u64, CallCounts)> = Vec::new();
            let mut totals: CallCounts = [0; 3];
            for (&second, counts) in &action.per_second {
                let start = second / bin * bin;
                if bins.last().is_none_or(|b| b.0 != start) {
                    bins.push((start, [0; 3]));
                }
                let slot = &mut bins.last_mut().expect("just pushed").1;
                for k in 0..3 {
                    slot[k] += counts[k];
                    totals[k] += counts[k];
                }
            }
            let per_second = |n: u64| n as f64 / bin as f64;
            let peak = bins.iter().map(|(_, c)| per_second(c.iter().sum())).fold(0.0, f64::max);
            let caption = format!(
                "{}: {}, {} accepted, {} rate-limited, {} other errors",
                action.action,
                canvas::plural(totals.iter().sum(), "call"),
                count(totals[ACCEPTED]),
                count(totals[RATE_LIMITED]),
                count(totals[OTHER_ERROR])
            );
            let y_desc = if bin == 1 { "calls per second".to_owned() } else { format!("calls/s (mean over {bin} s)") };
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, text(canvas::DESC_SIZE))
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(80)
                .build_cartesian_2d(0f64..x_end, 0f64..canvas::upper(peak))?;
            canvas::draw_axes(&mut chart, &format!("time since start ({})", unit.name), Some(&y_desc))?;
            let mut bars = Vec::new();
            for &(start, counts) in &bins {
                let (x0, x1) = (unit.of(start * 1_000_000), unit.of((start + bin) * 1_000_000));
                let mut base = 0.0;
                for (k, _, colour) in KINDS {
                    if counts[k] == 0 {
                        continue;
                    }
                    let top = base + per_second(counts[k]);
                    bars.push(Rectangle::new([(x0, base), (x1, top)], colour.filled()));
                    base = top;
                }
            }
            chart.draw_series(bars)?;
        }
        let items: Vec<(String, RGBColor)> = KINDS.iter().map(|&(_, name, colour)| (name.to_owned(), colour)).collect();
        canvas::legend_strip(&legend, &items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_widen_with_the_span() {
        assert_eq!(bin_seconds(1), 1);
        assert_eq!(bin_seconds(600), 1);
        assert_eq!(bin_seconds(601), 2);
        assert_eq!(bin_seconds(3685), 10);
        assert_eq!(bin_seconds(43_200), 120);
    }
}
