//! HTML's small parts, shared by the page and the comparison's section:
//! text escaped for HTML, and long tables shown in part.

use std::fmt::Write as _;

/// At most this many characters of a timer's name in a table cell (the
/// row's `data-timer` keeps it whole).
pub const NAME_CHARS: usize = 120;

/// At most this many rows of a table are in its body; the rest wait in a
/// template that a button adds.
pub const FIRST_ROWS: usize = 500;

/// A table's rows, then its end: the first [`FIRST_ROWS`] in its body, the
/// rest in a template a button adds.
pub fn write_rows(html: &mut String, rows: Vec<String>, what: &str) {
    let count = rows.len();
    let mut rows = rows.into_iter();
    for row in rows.by_ref().take(FIRST_ROWS) {
        html.push_str(&row);
    }
    let _ = writeln!(html, "</tbody>\n</table>");
    if count > FIRST_ROWS {
        html.push_str("<template class=\"more-rows\">");
        for row in rows {
            html.push_str(&row);
        }
        let _ = writeln!(
            html,
            "</template><button class=\"more-rows\">show the other {} {what}</button>",
            count - FIRST_ROWS
        );
    }
}

/// `text` with HTML's special characters escaped, for element text and
/// attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
