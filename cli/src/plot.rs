//! `perf-timer plot`: the percentile distribution chart HdrHistogram users
//! know, and where busy time goes, timer by timer; drawn with plotters as
//! SVG (also kept in memory for `html`) or PNG.

use std::path::Path;
use std::sync::OnceLock;

use perf_timer::Stats;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::CliError;

/// One line of a percentile chart: its legend and the timer it draws.
pub struct Curve<'a> {
    pub label: String,
    pub stats: &'a Stats,
}

/// One bar of a busy-time chart: a timer and its busy time in ns.
pub struct Bar {
    pub label: String,
    pub busy_ns: u64,
}

const SIZE: (u32, u32) = (960, 540);
/// The percentiles marked on the x axis, as 1/(1-p).
const TICKS: [(f64, &str); 6] = [
    (1.0, "0%"),
    (10.0, "90%"),
    (100.0, "99%"),
    (1e3, "99.9%"),
    (1e4, "99.99%"),
    (1e5, "99.999%"),
];

/// The text font: plotters draws text with a font it is given. The first
/// of `PERF_TIMER_FONT` and the usual places of DejaVu Sans and Liberation
/// Sans that exists.
fn font() -> Result<(), CliError> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| {
        let mut candidates: Vec<std::path::PathBuf> = Vec::new();
        if let Some(path) = std::env::var_os("PERF_TIMER_FONT") {
            candidates.push(path.into());
        }
        for path in [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/Library/Fonts/Arial.ttf",
            "C:\\Windows\\Fonts\\arial.ttf",
        ] {
            candidates.push(path.into());
        }
        for path in candidates {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            // Once per process: the chart code wants the bytes for good.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return Ok(());
            }
        }
        Err(
            "no font to draw the chart's text with: install DejaVu Sans \
             (Debian: apt install fonts-dejavu-core) or set PERF_TIMER_FONT=/path/to/font.ttf"
                .to_owned(),
        )
    });
    loaded.clone().map_err(CliError::Usage)
}

/// Where a chart goes.
pub enum Output<'a> {
    Svg(&'a Path),
    Png(&'a Path),
}

impl<'a> Output<'a> {
    /// From the output file's extension.
    pub fn of(path: &'a Path) -> Result<Output<'a>, CliError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Output::Svg(path)),
            Some("png") => Ok(Output::Png(path)),
            _ => Err(CliError::Usage(format!(
                "-o {} must end in .svg or .png: that is how the chart's format is chosen",
                path.display()
            ))),
        }
    }
}

/// The percentile chart of `curves`, titled `title`, as an SVG document.
pub fn percentiles_svg(title: &str, curves: &[Curve<'_>]) -> Result<String, CliError> {
    font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw_percentiles(&root, title, curves).map_err(CliError::Usage)?;
        root.present()
            .map_err(|e| CliError::Usage(format!("drawing the chart: {e}")))?;
    }
    Ok(svg)
}

/// The busy-time chart of `bars`, as an SVG document.
pub fn busy_svg(title: &str, bars: &[Bar]) -> Result<String, CliError> {
    font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size_for(bars)).into_drawing_area();
        draw_busy(&root, title, bars).map_err(CliError::Usage)?;
        root.present()
            .map_err(|e| CliError::Usage(format!("drawing the chart: {e}")))?;
    }
    Ok(svg)
}

/// Writes the percentile chart to `out`.
pub fn percentiles_to(out: Output<'_>, title: &str, curves: &[Curve<'_>]) -> Result<(), CliError> {
    font()?;
    match out {
        Output::Svg(path) => write(path, &percentiles_svg(title, curves)?),
        Output::Png(path) => {
            let root = BitMapBackend::new(path, SIZE).into_drawing_area();
            draw_percentiles(&root, title, curves).map_err(CliError::Usage)?;
            present(root, path)
        }
    }
}

/// Writes the busy-time chart to `out`.
pub fn busy_to(out: Output<'_>, title: &str, bars: &[Bar]) -> Result<(), CliError> {
    font()?;
    match out {
        Output::Svg(path) => write(path, &busy_svg(title, bars)?),
        Output::Png(path) => {
            let root = BitMapBackend::new(path, size_for(bars)).into_drawing_area();
            draw_busy(&root, title, bars).map_err(CliError::Usage)?;
            present(root, path)
        }
    }
}

fn present<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, path: &Path) -> Result<(), CliError> {
    root.present()
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))
}

/// Taller for many timers: a bar each.
fn size_for(bars: &[Bar]) -> (u32, u32) {
    (SIZE.0, (120 + 28 * bars.len() as u32).max(240))
}

/// A unit for values up to `max_ns`: (name, nanoseconds per unit).
fn unit_for(max_ns: f64) -> (&'static str, f64) {
    match max_ns {
        m if m >= 1e9 => ("s", 1e9),
        m if m >= 1e6 => ("ms", 1e6),
        m if m >= 1e3 => ("µs", 1e3),
        _ => ("ns", 1.0),
    }
}

/// Values spread wider than this (largest over smallest) go on a log axis,
/// so that a 20 µs timer is not a flat line under a 3 ms one.
const LOG_Y_FROM: f64 = 50.0;

fn draw_percentiles<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    curves: &[Curve<'_>],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing the chart: {e}");
    root.fill(&WHITE).map_err(err)?;
    let max_ns = curves
        .iter()
        .map(|c| c.stats.max().as_nanos() as f64)
        .fold(1.0, f64::max);
    let min_ns = curves
        .iter()
        .map(|c| (c.stats.min().as_nanos() as f64).max(1.0))
        .fold(f64::INFINITY, f64::min);
    let (unit, per_unit) = unit_for(max_ns);
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .margin_right(40)
        .x_label_area_size(48)
        .y_label_area_size(72);
    let x = (1.0_f64..1e5).log_scale();
    let y_desc = format!("busy time per run ({unit})");
    if max_ns / min_ns > LOG_Y_FROM {
        let y = (min_ns / per_unit / 1.2..max_ns / per_unit * 1.2).log_scale();
        let chart = builder.build_cartesian_2d(x, y).map_err(err)?;
        fill_percentiles(chart, &format!("{y_desc}, log scale"), curves, per_unit).map_err(err)
    } else {
        let chart = builder
            .build_cartesian_2d(x, 0.0..max_ns / per_unit * 1.05)
            .map_err(err)?;
        fill_percentiles(chart, &y_desc, curves, per_unit).map_err(err)
    }
}

/// The mesh, a line per curve and the legend, on either y axis.
fn fill_percentiles<'a, DB, Y>(
    mut chart: ChartContext<'a, DB, Cartesian2d<LogCoord<f64>, Y>>,
    y_desc: &str,
    curves: &[Curve<'_>],
    per_unit: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(y_desc)
        .x_labels(TICKS.len())
        .x_label_formatter(&|x| {
            TICKS
                .iter()
                .find(|(at, _)| (at / x - 1.0).abs() < 0.01)
                .map_or(String::new(), |(_, label)| (*label).to_owned())
        })
        .label_style(("sans-serif", 14))
        .draw()?;
    for (i, curve) in curves.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(f64, f64)> = curve
            .stats
            .histogram()
            .iter_quantiles(4)
            .map(|v| {
                let p = v.quantile_iterated_to().min(0.999_99);
                (1.0 / (1.0 - p), v.value_iterated_to() as f64 / per_unit)
            })
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(curve.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn draw_busy<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    bars: &[Bar],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing the chart: {e}");
    root.fill(&WHITE).map_err(err)?;
    let max_ns = bars.iter().map(|b| b.busy_ns as f64).fold(1.0, f64::max);
    let (unit, per_unit) = unit_for(max_ns);
    let n = bars.len().max(1) as u32;
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(4) as u32;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size((longest * 8).clamp(60, 360))
        // plotters' integer ranges include their end: n rows are 0..n - 1.
        .build_cartesian_2d(0.0..max_ns / per_unit * 1.05, (0..n - 1).into_segmented())
        .map_err(err)?;
    let names: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .x_desc(format!("total busy time ({unit})"))
        .y_labels(n as usize)
        .y_label_formatter(&|segment| match segment {
            SegmentValue::CenterOf(i) => (n.checked_sub(1 + i))
                .and_then(|row| names.get(row as usize))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .disable_y_mesh()
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    // Largest first, at the top.
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let row = n - 1 - i as u32;
            let color = Palette99::pick(i).to_rgba();
            let top = if row + 1 == n {
                SegmentValue::Last
            } else {
                SegmentValue::Exact(row + 1)
            };
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (bar.busy_ns as f64 / per_unit, top),
                ],
                color.filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        }))
        .map_err(err)?;
    Ok(())
}
