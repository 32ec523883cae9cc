//! Busy time against percentile (HdrHistogram's chart): a line per curve,
//! thin lines for the runs of a file that holds several, the x axis ending
//! where the data ends, the legend beside.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{self, Entry};
use super::{unit_for, Curve, LEGEND_WIDTH};
use perf_timer::Stats;

/// The percentiles marked on the x axis, as 1/(1-p).
const TICKS: [(f64, &str); 6] = [
    (1.0, "0%"),
    (10.0, "90%"),
    (100.0, "99%"),
    (1e3, "99.9%"),
    (1e4, "99.99%"),
    (1e5, "99.999%"),
];

/// Values spread wider than this (largest over smallest) go on a log axis,
/// so that a 20 µs timer is not a flat line under a 3 ms one.
const LOG_Y_FROM: f64 = 50.0;

/// The highest percentile `stats` can tell, as 1/(1-p): its number of
/// runs (the top one of n runs is the 1 − 1/n quantile), at most 99.999 %.
fn reach(stats: &Stats) -> f64 {
    (stats.count() as f64).clamp(2.0, 1e5)
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    curves: &[Curve],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing the chart: {e}");
    root.fill(&WHITE).map_err(err)?;
    // The title across the whole chart, the legend in a column of its own.
    let body = root.titled(title, ("sans-serif", 22)).map_err(err)?;
    let (plot_area, legend_area) = body.split_horizontally(body.dim_in_pixel().0 - LEGEND_WIDTH);
    let all = || {
        curves
            .iter()
            .flat_map(|c| std::iter::once(&c.stats).chain(c.runs.iter()))
    };
    let max_ns = all().map(|s| s.max().as_nanos() as f64).fold(1.0, f64::max);
    let min_ns = all()
        .map(|s| (s.min().as_nanos() as f64).max(1.0))
        .fold(f64::INFINITY, f64::min);
    let x_top = all().map(reach).fold(10.0, f64::max);
    let (unit, per_unit) = unit_for(max_ns);
    let mut builder = ChartBuilder::on(&plot_area);
    builder
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72);
    let x = (1.0_f64..x_top).log_scale();
    let y_desc = format!("busy time per run ({unit})");
    if max_ns / min_ns > LOG_Y_FROM {
        let y = (min_ns / per_unit / 1.2..max_ns / per_unit * 1.2).log_scale();
        let chart = builder.build_cartesian_2d(x, y).map_err(err)?;
        fill(chart, &format!("{y_desc}, log scale"), curves, per_unit).map_err(err)?;
    } else {
        let chart = builder
            .build_cartesian_2d(x, 0.0..max_ns / per_unit * 1.05)
            .map_err(err)?;
        fill(chart, &y_desc, curves, per_unit).map_err(err)?;
    }
    let mut entries: Vec<Entry> = Vec::new();
    for (i, curve) in curves.iter().enumerate() {
        entries.push(Entry {
            label: curve.label.clone(),
            color: Palette99::pick(i).to_rgba(),
            width: 3,
        });
        if !curve.runs.is_empty() {
            entries.push(Entry {
                label: format!("  each of its {} runs", curve.runs.len()),
                color: Palette99::pick(i).mix(0.45),
                width: 1,
            });
        }
    }
    legend::draw(&legend_area, &entries).map_err(err)
}

/// The points of one distribution, up to the percentile it can tell.
fn points(stats: &Stats, per_unit: f64) -> Vec<(f64, f64)> {
    let top = 1.0 - 1.0 / reach(stats);
    stats
        .histogram()
        .iter_quantiles(4)
        .map(|v| {
            let p = v.quantile_iterated_to().min(top);
            (1.0 / (1.0 - p), v.value_iterated_to() as f64 / per_unit)
        })
        .collect()
}

/// The mesh and a line per curve (its runs first, thin, under it).
fn fill<'a, DB, Y>(
    mut chart: ChartContext<'a, DB, Cartesian2d<LogCoord<f64>, Y>>,
    y_desc: &str,
    curves: &[Curve],
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
        let faint = Palette99::pick(i).mix(0.45);
        for run in &curve.runs {
            chart.draw_series(LineSeries::new(
                points(run, per_unit),
                faint.stroke_width(1),
            ))?;
        }
        let color = Palette99::pick(i).to_rgba();
        chart.draw_series(LineSeries::new(
            points(&curve.stats, per_unit),
            color.stroke_width(2),
        ))?;
    }
    Ok(())
}
