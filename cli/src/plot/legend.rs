//! The legend, in a column of its own beside the plotted area: it never
//! covers a line, whatever the data.

use plotters::coord::Shift;
use plotters::prelude::*;

/// One entry: its text and its line's colour and width.
pub struct Entry {
    pub label: String,
    pub color: RGBAColor,
    pub width: u32,
}

/// Draws `entries` top to bottom in `area`, each label shortened to fit.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (width, height) = area.dim_in_pixel();
    // About 7.5 px a character at 13 px: what fits right of the line sample.
    let fits = (f64::from(width.saturating_sub(44)) / 7.5).max(8.0) as usize;
    for (i, entry) in entries.iter().enumerate() {
        let y = 70 + 24 * i as i32;
        if y + 12 > height as i32 {
            let more = entries.len() - i;
            area.draw(&Text::new(
                format!("… {more} more"),
                (10, y - 8),
                ("sans-serif", 13).into_font(),
            ))?;
            break;
        }
        area.draw(&PathElement::new(
            vec![(8, y), (32, y)],
            entry.color.stroke_width(entry.width.max(2)),
        ))?;
        area.draw(&Text::new(
            shorten(&entry.label, fits),
            (40, y - 8),
            ("sans-serif", 13).into_font(),
        ))?;
    }
    Ok(())
}

/// `label` in at most `fits` characters: its start and its end around an
/// ellipsis, where the distinguishing part of a timer's name usually is.
pub fn shorten(label: &str, fits: usize) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= fits {
        return label.to_owned();
    }
    let tail = (fits - 1) / 2;
    let head = fits - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_labels_keep_their_start_and_end() {
        assert_eq!(shorten("client", 10), "client");
        let short = shorten("my_crate::db::Store::get_with_retries", 15);
        assert_eq!(short.chars().count(), 15);
        assert_eq!(short, "my_crat…retries");
    }
}
