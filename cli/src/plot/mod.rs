//! `perf-timer plot`: the percentile distribution chart HdrHistogram users
//! know, and where busy time goes, timer by timer; drawn with plotters as
//! SVG (also kept in memory for `html`) or PNG.
//!
//! Files: `percentiles.rs` and `busy.rs` draw the two charts on any
//! backend, `legend.rs` the legend beside them (never over the lines),
//! `canvas.rs` the PNG backend whose text keeps each glyph's bearing.

mod busy;
mod canvas;
pub mod legend;
mod percentiles;

use std::path::Path;
use std::sync::OnceLock;

use perf_timer::Stats;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::CliError;

/// One line of a percentile chart: its legend, the distribution it draws,
/// and, where a file holds several runs, each run's own (thin lines).
pub struct Curve {
    pub label: String,
    pub stats: Stats,
    pub runs: Vec<Stats>,
}

/// The busy-time chart: a row per timer, a bar per file (`series`).
pub struct Bars {
    /// The files, one bar colour each.
    pub series: Vec<String>,
    /// Each timer, with its self busy time in ns per file.
    pub rows: Vec<(String, Vec<u64>)>,
}

impl Bars {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

const SIZE: (u32, u32) = (960, 540);
/// The legend's column, right of the plotted area.
const LEGEND_WIDTH: u32 = 300;

/// The font's bytes: plotters draws text with a font it is given. The first
/// of `PERF_TIMER_FONT` and the usual places of DejaVu Sans and Liberation
/// Sans that exists, registered with plotters once.
fn font() -> Result<&'static [u8], CliError> {
    static LOADED: OnceLock<Result<&'static [u8], String>> = OnceLock::new();
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
                return Ok(bytes);
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
pub fn percentiles_svg(title: &str, curves: &[Curve]) -> Result<String, CliError> {
    font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        percentiles::draw(&root, title, curves).map_err(CliError::Usage)?;
        root.present()
            .map_err(|e| CliError::Usage(format!("drawing the chart: {e}")))?;
    }
    Ok(svg)
}

/// The busy-time chart of `bars`, as an SVG document.
pub fn busy_svg(title: &str, bars: &Bars) -> Result<String, CliError> {
    font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, busy::size_for(bars)).into_drawing_area();
        busy::draw(&root, title, bars).map_err(CliError::Usage)?;
        root.present()
            .map_err(|e| CliError::Usage(format!("drawing the chart: {e}")))?;
    }
    Ok(svg)
}

/// Writes the percentile chart to `out`.
pub fn percentiles_to(out: Output<'_>, title: &str, curves: &[Curve]) -> Result<(), CliError> {
    let font = font()?;
    match out {
        Output::Svg(path) => write(path, &percentiles_svg(title, curves)?),
        Output::Png(path) => {
            let root = canvas::Png::new(path, SIZE, font)?.into_drawing_area();
            percentiles::draw(&root, title, curves).map_err(CliError::Usage)?;
            present(root, path)
        }
    }
}

/// Writes the busy-time chart to `out`.
pub fn busy_to(out: Output<'_>, title: &str, bars: &Bars) -> Result<(), CliError> {
    let font = font()?;
    match out {
        Output::Svg(path) => write(path, &busy_svg(title, bars)?),
        Output::Png(path) => {
            let root = canvas::Png::new(path, busy::size_for(bars), font)?.into_drawing_area();
            busy::draw(&root, title, bars).map_err(CliError::Usage)?;
            present(root, path)
        }
    }
}

fn present<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, path: &Path) -> Result<(), CliError> {
    root.present()
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Write {
        path: path.to_owned(),
        source,
    })
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
