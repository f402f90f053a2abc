//! What every chart shares: the bundled font, colours, axis units, number formats, and writing
//! one drawing as both SVG and PNG.
//!
//! Text is drawn with plotters' `ab_glyph` renderer from DejaVu Sans, which is compiled into the
//! binary (`assets/fonts/`, Bitstream Vera licence): no font-kit, no fontconfig, no system font,
//! so a machine with no fonts installed draws the same pixels as any other.

use std::io::Write;
use std::path::Path;
use std::sync::Once;

use ab_glyph::FontRef;
use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::{InstanceState, TerminationPath};

use super::data::RunMeta;
use super::glyphs::TrueText;

pub(crate) const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

pub(crate) const WIDTH: u32 = 1280;
pub(crate) const TITLE_SIZE: u32 = 24;
pub(crate) const TEXT_SIZE: u32 = 15;
pub(crate) const DESC_SIZE: u32 = 17;

pub(crate) type Area<DB> = DrawingArea<DB, Shift>;
pub(crate) type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
pub(crate) type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Registers the bundled font under the family name every chart asks for.
pub(crate) fn register_font() -> anyhow::Result<()> {
    static REGISTER: Once = Once::new();
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS)
            .map_err(|_| anyhow!("the bundled DejaVu Sans font does not load"));
    });
    result
}

/// A chart that can draw itself on any plotters backend.
pub(crate) trait Chart {
    /// The file name, without extension.
    fn name(&self) -> &str;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB>;
}

/// Draws `chart` into `dir` as `NAME.svg` and `NAME.png`; returns its name.
pub(crate) fn save(chart: &impl Chart, dir: &Path) -> anyhow::Result<String> {
    let name = chart.name().to_owned();
    let (w, h) = chart.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        chart.draw(&root).map_err(|e| anyhow!("cannot draw {name}.svg: {e}"))?;
        root.present().map_err(|e| anyhow!("cannot draw {name}.svg: {e}"))?;
    }
    svg.push('\n');
    let svg_path = dir.join(format!("{name}.svg"));
    std::fs::write(&svg_path, svg).with_context(|| format!("cannot write `{}`", svg_path.display()))?;

    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let font =
            FontRef::try_from_slice(DEJAVU_SANS).map_err(|_| anyhow!("the bundled DejaVu Sans font does not load"))?;
        let root = TrueText::new(BitMapBackend::with_buffer(&mut pixels, (w, h)), font).into_drawing_area();
        chart.draw(&root).map_err(|e| anyhow!("cannot draw {name}.png: {e}"))?;
        root.present().map_err(|e| anyhow!("cannot draw {name}.png: {e}"))?;
    }
    let png_path = dir.join(format!("{name}.png"));
    write_png(&png_path, &pixels, (w, h)).with_context(|| format!("cannot write `{}`", png_path.display()))?;
    Ok(name)
}

fn write_png(path: &Path, rgb: &[u8], (w, h): (u32, u32)) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(&mut file, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Charts are flat colours: fast compression already gets most of the gain.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    file.flush()?;
    Ok(())
}

pub(crate) fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

pub(crate) fn grey_text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&RGBColor(90, 90, 90))
}

/// Colour of an instance state in the Gantt chart: waiting states pale, active ones saturated,
/// the two endings green and red.
pub(crate) fn state_colour(state: InstanceState) -> RGBColor {
    match state {
        InstanceState::Submitted => RGBColor(205, 205, 205),
        InstanceState::Pending => RGBColor(158, 180, 205),
        InstanceState::Runnable => RGBColor(240, 200, 70),
        InstanceState::Starting => RGBColor(245, 130, 40),
        InstanceState::Running => RGBColor(45, 110, 200),
        InstanceState::Succeed => RGBColor(60, 165, 80),
        InstanceState::Failed => RGBColor(210, 50, 45),
        InstanceState::FailedInterrupted => RGBColor(140, 80, 175),
    }
}

/// Colour of a termination path in the latency charts.
pub(crate) fn path_colour(path: TerminationPath) -> RGBColor {
    match path {
        TerminationPath::Immediate => RGBColor(44, 160, 44),
        TerminationPath::Cvm => RGBColor(31, 119, 180),
        TerminationPath::Bypass => RGBColor(255, 127, 14),
        TerminationPath::Restart => RGBColor(148, 103, 189),
        TerminationPath::Rejected => RGBColor(214, 39, 40),
        TerminationPath::NoOp => RGBColor(140, 86, 75),
        TerminationPath::None => RGBColor(127, 127, 127),
    }
}

/// `colour` faded towards white: `strength` 1 is the colour itself, 0 is white.
pub(crate) fn tint(colour: RGBColor, strength: f64) -> RGBColor {
    let mix = |c: u8| (f64::from(c) * strength + 255.0 * (1.0 - strength)).round() as u8;
    RGBColor(mix(colour.0), mix(colour.1), mix(colour.2))
}

/// Ten distinct colours for lines that have no meaning of their own (jobs, …).
pub(crate) const SERIES: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A time unit that keeps axis numbers short: seconds up to 20 minutes, minutes up to 20 hours,
/// then hours.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeUnit {
    micros: f64,
    pub name: &'static str,
}

impl TimeUnit {
    pub(crate) fn for_span(span_us: u64) -> TimeUnit {
        match span_us {
            s if s <= 1_200_000_000 => TimeUnit { micros: 1e6, name: "s" },
            s if s <= 72_000_000_000 => TimeUnit { micros: 60e6, name: "min" },
            _ => TimeUnit { micros: 3600e6, name: "h" },
        }
    }

    pub(crate) fn of(self, us: u64) -> f64 {
        us as f64 / self.micros
    }
}

/// A number for an axis or a legend: thousands grouped, at most three decimals, no trailing
/// zeros, no exponent.
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    // Three decimals, or three significant digits for values below 0.1 (rates averaged over
    // long bins).
    let magnitude = v.abs();
    let decimals =
        if magnitude > 0.0 && magnitude < 0.1 { (2 - magnitude.log10().floor() as i32).min(12) as usize } else { 3 };
    let rounded = format!("{:.*}", decimals, magnitude);
    let (int, frac) = rounded.split_once('.').expect("formatted with decimals");
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && (int != "0" || !frac.is_empty()) { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac}") }
}

pub(crate) fn count(n: u64) -> String {
    number(n as f64)
}

/// "1 instance", "3,400 instances".
pub(crate) fn plural(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", count(n), if n == 1 { "" } else { "s" })
}

/// How a chart's title names the run: the scenario and its seed.
pub(crate) fn title_name(meta: &RunMeta) -> String {
    format!("{} (seed {})", meta.scenario, meta.seed)
}

/// A range that leaves a little room above the highest value and is never empty.
pub(crate) fn upper(max: f64) -> f64 {
    if max > 0.0 { max * 1.05 } else { 1.0 }
}

/// Draws the axes the same way on every chart: named, numbers as [`number`] writes them, a faint
/// grid. Without `y_desc` the y axis has neither labels nor grid (the Gantt chart labels its rows
/// itself).
pub(crate) fn draw_axes<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    x_desc: &str,
    y_desc: Option<&str>,
) -> DrawResult<DB> {
    let format = |v: &f64| number(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .x_label_formatter(&format)
        .y_label_formatter(&format)
        .label_style(text(TEXT_SIZE))
        .axis_desc_style(text(DESC_SIZE))
        .light_line_style(RGBColor(235, 235, 235));
    match y_desc {
        Some(desc) => mesh.y_desc(desc),
        None => mesh.disable_y_mesh().y_labels(0),
    };
    mesh.draw()
}

/// Draws the legend of the series that have labels.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Plot<'a, DB>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(text(TEXT_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .draw()
}

/// A legend swatch for a solid line.
pub(crate) fn line_swatch(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style)
}

/// A legend swatch for a dashed line.
pub(crate) fn dashed_swatch(
    style: ShapeStyle,
) -> impl Fn((i32, i32)) -> DashedPathElement<std::vec::IntoIter<(i32, i32)>, i32> {
    move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 5, 3, style)
}

/// A row of colour swatches with their names, centred on `area`.
pub(crate) fn legend_strip<DB: DrawingBackend>(area: &Area<DB>, items: &[(String, RGBColor)]) -> DrawResult<DB> {
    let style = text(TEXT_SIZE);
    let swatch = 14i32;
    let gap = 26i32;
    let widths: Vec<i32> = items
        .iter()
        .map(|(label, _)| area.estimate_text_size(label, &style).map(|(w, _)| w as i32 + swatch + 6))
        .collect::<Result<_, _>>()?;
    let total: i32 = widths.iter().sum::<i32>() + gap * (items.len() as i32 - 1).max(0);
    let (w, h) = area.dim_in_pixel();
    let mut x = ((w as i32 - total) / 2).max(4);
    let y = h as i32 / 2;
    for ((label, colour), width) in items.iter().zip(widths) {
        area.draw(&Rectangle::new([(x, y - swatch / 2), (x + swatch, y + swatch / 2)], colour.filled()))?;
        area.draw(&Text::new(label.clone(), (x + swatch + 6, y), style.pos(Pos::new(HPos::Left, VPos::Center))))?;
        x += width + gap;
    }
    Ok(())
}

/// A legend as a list of lines, one `row_px` high each, indented to the plot.
pub(crate) fn legend_list<DB: DrawingBackend>(
    area: &Area<DB>,
    items: &[(String, RGBColor)],
    row_px: u32,
) -> DrawResult<DB> {
    let style = text(TEXT_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (label, colour)) in items.iter().enumerate() {
        let y = (row_px as i32) * i as i32 + row_px as i32 / 2;
        area.draw(&PathElement::new(vec![(100, y), (128, y)], colour.stroke_width(3)))?;
        area.draw(&Text::new(label.clone(), (136, y), style.clone()))?;
    }
    Ok(())
}

/// A sentence in the middle of an empty plotting area, saying why it is empty.
pub(crate) fn note<DB: DrawingBackend>(area: &Area<DB>, message: &str) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        message.to_owned(),
        (w as i32 / 2, h as i32 / 2),
        grey_text(DESC_SIZE + 2).pos(Pos::new(HPos::Center, VPos::Center)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2500.0), "2,500");
        assert_eq!(number(1_000_000.0), "1,000,000");
        assert_eq!(number(174.908795), "174.909");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(-1234.5), "-1,234.5");
        assert_eq!(number(0.0014), "0.0014");
        assert_eq!(number(0.001388888), "0.00139");
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(-0.0001), "-0.0001");
    }

    #[test]
    fn time_units_follow_the_span() {
        assert_eq!(TimeUnit::for_span(600_000_000).name, "s");
        assert_eq!(TimeUnit::for_span(3_600_000_000).name, "min");
        assert_eq!(TimeUnit::for_span(43_200_000_000).name, "min");
        assert_eq!(TimeUnit::for_span(100 * 3_600_000_000).name, "h");
        assert_eq!(TimeUnit::for_span(3_600_000_000).of(90_000_000), 1.5);
    }
}
