//! Flamegraphs of a run's time by nesting path, drawn by inferno from
//! folded-stack lines (`api;service;db 1234567`, nanoseconds).

use std::io;

use inferno::flamegraph::{self, color, Options};

/// The frame that marks parked time in `Folded::Wall` lines.
pub const PARKED: &str = "[parked]";

/// The height an SVG says it is, in pixels (inferno writes
/// `height="NNN"` on its root), for a frame that shows it whole.
pub fn height(svg: &str) -> Option<u32> {
    let root = &svg[svg.find("<svg")?..];
    let root = &root[..root.find('>')?];
    let at = root.find(" height=\"")? + " height=\"".len();
    let digits: String = root[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// What a flamegraph shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shows {
    /// Busy time: widths are inclusive busy, each frame's own part its
    /// self busy.
    Busy,
    /// Where runs were parked: each nanosecond an outermost run was idle,
    /// at the deepest timed path that was pending.
    Idle,
    /// Busy and parked time together, the parked frames drawn apart.
    Wall,
}

impl Shows {
    fn title(self) -> &'static str {
        match self {
            Shows::Busy => "busy time by timer path",
            Shows::Idle => "parked time by timer path",
            Shows::Wall => "wall time by timer path: busy, and parked (blue)",
        }
    }
}

/// The SVG of `folded` (one `path nanoseconds` line each). `parked`: the
/// frame name that marks parked time in a wall graph, drawn blue; `about`
/// a line under the title (the file and run). `None` when there is no
/// line to draw.
pub fn svg(
    folded: &str,
    shows: Shows,
    parked: Option<&str>,
    about: &str,
) -> io::Result<Option<Vec<u8>>> {
    let lines: Vec<&str> = (folded.lines())
        .filter(|line| line.rsplit_once(' ').is_some_and(|(_, n)| n != "0"))
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let mut palette = color::PaletteMap::default();
    if let Some(parked) = parked {
        palette.insert(
            parked,
            color::Color {
                r: 90,
                g: 140,
                b: 220,
            },
        );
    }
    let mut options = Options::default();
    options.title = shows.title().to_owned();
    options.subtitle = (!about.is_empty()).then(|| about.to_owned());
    options.count_name = "ns".to_owned();
    options.name_type = "Path:".to_owned();
    // Colors from the names, the same in every drawing of the same paths.
    options.hash = true;
    options.deterministic = true;
    options.colors = match shows {
        Shows::Idle => color::Palette::Basic(color::BasicPalette::Io),
        Shows::Busy | Shows::Wall => color::Palette::Basic(color::BasicPalette::Hot),
    };
    if parked.is_some() {
        options.palette_map = Some(&mut palette);
    }
    let mut out = Vec::new();
    flamegraph::from_lines(&mut options, lines, &mut out)?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flamegraph_holds_every_path_with_its_time() {
        let folded = "api 100\napi;db 700\napi;cache 200\n";
        let svg = svg(folded, Shows::Busy, None, "run 1 of x.jsonl")
            .unwrap()
            .unwrap();
        let text = String::from_utf8(svg).unwrap();
        assert!(text.starts_with("<?xml"), "{text}");
        // inferno titles each frame `name (count ns, share)`: the root is
        // the total, each child its own.
        assert!(text.contains("api (1,000 ns, 100.00%)"), "{text}");
        assert!(text.contains("db (700 ns, 70.00%)"), "{text}");
        assert!(text.contains("cache (200 ns, 20.00%)"), "{text}");
        assert!(text.contains("run 1 of x.jsonl"));
        let height = height(&text).unwrap();
        assert!((100..1000).contains(&height), "{height}");
    }

    #[test]
    fn nothing_to_draw_is_none() {
        assert!(svg("", Shows::Idle, None, "").unwrap().is_none());
        assert!(svg("api 0\n", Shows::Idle, None, "").unwrap().is_none());
    }
}
