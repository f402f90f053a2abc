//! Progress over time: instances terminated so far, CVMs alive and quota in use, against the
//! quota limit, with the accepted TerminateJob requests marked.

use plotters::prelude::*;

use super::canvas::{self, Area, Chart, DrawResult, TimeUnit, count, text};
use super::data::RunMeta;
use super::series::StepSeries;

pub(super) struct Progress<'a> {
    pub meta: &'a RunMeta,
    pub terminated: &'a StepSeries,
    pub cvms_alive: &'a StepSeries,
    pub quota_in_use: &'a StepSeries,
    pub end: u64,
}

impl Chart for Progress<'_> {
    fn name(&self) -> &str {
        "progress"
    }

    fn size(&self) -> (u32, u32) {
        (canvas::WIDTH, 680)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let title = format!("{}: terminations, CVMs alive and quota in use over time", canvas::title_name(self.meta));
        let area = root.titled(&title, text(canvas::TITLE_SIZE))?;
        let unit = TimeUnit::for_span(self.end);
        let data_peak =
            [self.terminated.peak(), self.cvms_alive.peak(), self.quota_in_use.peak()].into_iter().max().unwrap_or(0);
        // A limit far above everything would flatten the lines: then it is only named.
        let limit_on_axis = self.meta.quota_limit.filter(|&l| l as f64 <= 1.5 * data_peak as f64);
        let peak = data_peak.max(limit_on_axis.unwrap_or(0));
        let x_end = unit.of(self.end).max(1e-6);
        // Room above the highest line for the legend.
        let top = if peak > 0 { peak as f64 * 1.3 } else { 1.0 };
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..x_end, 0f64..top)?;
        canvas::draw_axes(&mut chart, &format!("time since start ({})", unit.name), Some("count"))?;

        let line = |series: &StepSeries| -> Vec<(f64, f64)> {
            series.polyline(self.end).into_iter().map(|(t, v)| (unit.of(t), v as f64)).collect()
        };
        let style = RGBColor(110, 110, 110).stroke_width(2);
        match (self.meta.quota_limit, limit_on_axis) {
            (Some(limit), Some(_)) => {
                chart
                    .draw_series(DashedLineSeries::new(vec![(0.0, limit as f64), (x_end, limit as f64)], 10, 6, style))?
                    .label(format!("quota limit ({})", count(limit)))
                    .legend(canvas::dashed_swatch(style));
            }
            (Some(limit), None) => {
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                    .label(format!("quota limit: {}, above the axis", count(limit)))
                    .legend(|(x, y)| EmptyElement::at((x, y)));
            }
            (None, _) => {
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                    .label("no quota limit")
                    .legend(|(x, y)| EmptyElement::at((x, y)));
            }
        }
        let requests: Vec<f64> =
            self.meta.jobs.iter().filter_map(|j| j.terminate_requested).map(|t| unit.of(t.micros())).collect();
        let style = BLACK.stroke_width(1);
        for (i, &x) in requests.iter().enumerate() {
            let drawn = chart.draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, top)], 4, 4, style))?;
            if i == 0 {
                drawn.label("TerminateJob accepted").legend(canvas::dashed_swatch(style));
            }
        }
        // Quota in use is drawn wide under CVMs alive: where the two are equal (no create call
        // waiting) it shows as an orange edge around the blue line.
        let series = [
            (
                self.quota_in_use,
                RGBColor(255, 127, 14),
                6,
                format!("quota in use (peak {})", count(self.quota_in_use.peak())),
            ),
            (
                self.cvms_alive,
                RGBColor(31, 119, 180),
                2,
                format!("CVMs alive (peak {})", count(self.cvms_alive.peak())),
            ),
            (
                self.terminated,
                RGBColor(214, 39, 40),
                2,
                format!("instances terminated, cumulative ({})", count(self.terminated.last())),
            ),
        ];
        for (s, colour, width, label) in series {
            let style = colour.stroke_width(width);
            chart.draw_series(LineSeries::new(line(s), style))?.label(label).legend(canvas::line_swatch(style));
        }
        canvas::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
