//! The PNG backend: plotters' bitmap backend, with text drawn here.
//!
//! plotters 0.3.7 draws each glyph of a bitmap text from the glyph's pen
//! position without its left side bearing, so narrow glyphs slide left into
//! their neighbours ("client" reads "dient"). This backend lays glyphs out
//! with `ab_glyph` at their true bounds (bearing and kerning); everything
//! else goes to the bitmap backend unchanged.

use std::path::Path;

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform,
};

use crate::error::CliError;

/// A PNG file being drawn.
pub struct Png<'a> {
    bitmap: BitMapBackend<'a>,
    font: FontRef<'static>,
}

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> Png<'a> {
    /// A `size` canvas to be written to `path`, its text in `font` (TTF).
    pub fn new(path: &'a Path, size: (u32, u32), font: &'static [u8]) -> Result<Self, CliError> {
        let font = FontRef::try_from_slice(font)
            .map_err(|e| CliError::Usage(format!("the chart's font cannot be read: {e}")))?;
        Ok(Png {
            bitmap: BitMapBackend::new(path, size),
            font,
        })
    }
}

/// A text's pixels, (x, y, coverage) from its top left, and its (width,
/// height).
type Raster = (Vec<(i32, i32, f32)>, (i32, i32));

/// Each glyph of `text` at `size` px at its true bounds.
fn rasterize(font: &FontRef<'static>, size: f64, text: &str) -> Raster {
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let ascent = scaled.ascent();
    let mut pixels = Vec::new();
    let mut caret = 0.0_f32;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(previous) = previous {
            caret += scaled.kern(previous, id);
        }
        previous = Some(id);
        let glyph = id.with_scale_and_position(scaled.scale(), ab_glyph::point(caret, ascent));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|x, y, coverage| {
                pixels.push((left + x as i32, top + y as i32, coverage));
            });
        }
        caret += scaled.h_advance(id);
    }
    let height = (scaled.ascent() - scaled.descent()).ceil() as i32;
    (pixels, (caret.ceil() as i32, height))
}

impl<'a> DrawingBackend for Png<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.bitmap.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.bitmap.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.bitmap.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.bitmap.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.bitmap.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.bitmap.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.bitmap.draw_path(path, style)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.bitmap.fill_polygon(vertices, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.bitmap.draw_circle(center, radius, style, fill)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), Error<'a>> {
        let (_, (width, height)) = rasterize(&self.font, style.size(), text);
        Ok((width.max(0) as u32, height.max(0) as u32))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (pixels, (width, height)) = rasterize(&self.font, style.size(), text);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform: FontTransform = style.transform();
        let (w, h) = self.get_size();
        for (x, y, coverage) in pixels {
            let (x, y) = transform.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let alpha = color.alpha * f64::from(coverage.clamp(0.0, 1.0));
                self.bitmap
                    .draw_pixel((x, y), BackendColor { alpha, ..color })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns of "cl" that hold ink, as runs: with each glyph at its
    /// true bounds, "c" and "l" stay two runs with a gap between them.
    #[test]
    fn narrow_glyphs_keep_their_bearing() {
        let Ok(font) = crate::plot::font() else {
            note!("skipped: no font (install fonts-dejavu-core)");
            return;
        };
        let font = FontRef::try_from_slice(font).unwrap();
        let (pixels, (width, _)) = rasterize(&font, 14.0, "cl");
        let mut inked = vec![false; width as usize + 2];
        for (x, _, coverage) in pixels {
            if coverage > 0.25 {
                inked[x.max(0) as usize] = true;
            }
        }
        let runs = inked.windows(2).filter(|w| !w[0] && w[1]).count() + usize::from(inked[0]);
        assert_eq!(runs, 2, "{inked:?}");
    }
}
