//! Where busy time goes: a row per timer, its self busy time (busy time
//! minus the nested timers' inside it, so that rows never count the same
//! time twice), a bar per file side by side, never summed.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{self, Entry};
use super::{unit_for, Bars, LEGEND_WIDTH, SIZE};

/// Taller for many timers: a row each, a bar per file in it.
pub fn size_for(bars: &Bars) -> (u32, u32) {
    let per_row = 10 + 16 * bars.series.len().max(1) as u32;
    (SIZE.0, (120 + per_row * bars.rows.len() as u32).max(240))
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    bars: &Bars,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing the chart: {e}");
    root.fill(&WHITE).map_err(err)?;
    let body = root.titled(title, ("sans-serif", 22)).map_err(err)?;
    let several = bars.series.len() > 1;
    let (plot_area, legend_area) = if several {
        let (plot, legend) = body.split_horizontally(body.dim_in_pixel().0 - LEGEND_WIDTH);
        (plot, Some(legend))
    } else {
        (body, None)
    };
    let max_ns = (bars.rows.iter())
        .flat_map(|(_, v)| v.iter())
        .map(|&ns| ns as f64)
        .fold(1.0, f64::max);
    let (unit, per_unit) = unit_for(max_ns);
    let n = bars.rows.len().max(1) as u32;
    let longest = (bars.rows.iter())
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(4) as u32;
    let label_width = (longest * 8).clamp(60, 300);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(label_width)
        // plotters' integer ranges include their end: n rows are 0..n - 1.
        .build_cartesian_2d(0.0..max_ns / per_unit * 1.05, (0..n - 1).into_segmented())
        .map_err(err)?;
    let fits = (label_width / 8).max(8) as usize;
    let names: Vec<String> = (bars.rows.iter())
        .map(|(label, _)| legend::shorten(label, fits))
        .collect();
    chart
        .configure_mesh()
        .x_desc(format!("self busy time ({unit})"))
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
    // Largest first, at the top; within a row, a bar per file, top down,
    // drawn in the plotting area's pixels.
    let area = chart.plotting_area().strip_coord_spec();
    let (width, height) = area.dim_in_pixel();
    let row_px = f64::from(height) / f64::from(n);
    let slot = row_px * 0.8 / bars.series.len().max(1) as f64;
    let x_max = max_ns / per_unit * 1.05;
    for (i, (_, values)) in bars.rows.iter().enumerate() {
        for (file, &ns) in values.iter().enumerate() {
            let color = Palette99::pick(if several { file } else { i }).to_rgba();
            let top = i as f64 * row_px + row_px * 0.1 + slot * file as f64;
            let right = (ns as f64 / per_unit / x_max * f64::from(width)).round() as i32;
            let (top, bottom) = (top.round() as i32, (top + slot).round() as i32 - 1);
            area.draw(&Rectangle::new(
                [(0, top), (right.max(1), bottom.max(top))],
                color.filled(),
            ))
            .map_err(err)?;
        }
    }
    if let Some(legend_area) = legend_area {
        let entries: Vec<Entry> = (bars.series.iter().enumerate())
            .map(|(file, label)| Entry {
                label: label.clone(),
                color: Palette99::pick(file).to_rgba(),
                width: 8,
            })
            .collect();
        legend::draw(&legend_area, &entries).map_err(err)?;
    }
    Ok(())
}
