//! Run labels as the command line reads and prints them: `k=v,k=v`, with
//! the escapes of `PERF_TIMER_LABELS` (`\=`, `\,`, `\\`).

/// `--label k=v`, checked; with the escapes of `PERF_TIMER_LABELS`
/// (`\=`, `\,` and `\\` for an equals sign, a comma and a backslash), so
/// that a label saved with them is asked for as it was written.
pub fn label(text: &str) -> Result<(String, String), String> {
    let (mut key, mut value) = (String::new(), None::<String>);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let c = match (c, chars.clone().next()) {
            ('\\', Some(e @ ('=' | ',' | '\\'))) => {
                chars.next();
                Some(e)
            }
            ('=', _) if value.is_none() => {
                value = Some(String::new());
                None
            }
            (c, _) => Some(c),
        };
        if let Some(c) = c {
            value.as_mut().unwrap_or(&mut key).push(c);
        }
    }
    match value {
        Some(value) if !key.is_empty() => Ok((key, value)),
        _ => Err(format!(
            "--label takes key=value (e.g. --label commit=abc123; \\= and \\, escape an equals sign \
             and a comma), not {text:?}"
        )),
    }
}

/// Labels as `k=v,k=v`, written with the escapes [`label`] reads, so that
/// a label printed can be asked for as printed (`--label 'k=a\,b'`).
pub fn labels_text<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let escape = |text: &str, out: &mut String| {
        for c in text.chars() {
            if matches!(c, '=' | ',' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    };
    let mut out = String::new();
    for (i, (key, value)) in labels.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        escape(key, &mut out);
        out.push('=');
        escape(value, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_the_escapes_that_perf_timer_labels_takes() {
        let pair = |k: &str, v: &str| Ok((k.to_owned(), v.to_owned()));
        assert_eq!(label("commit=abc"), pair("commit", "abc"));
        assert_eq!(label("a=b=c"), pair("a", "b=c"));
        assert_eq!(label(r"k\=1=v\,w"), pair("k=1", "v,w"));
        assert_eq!(label(r"path=c:\\x\y"), pair("path", r"c:\x\y"));
        assert!(label("noeq").is_err() && label("=v").is_err());
    }

    #[test]
    fn labels_print_as_they_are_asked_for() {
        let labels: Vec<(String, String)> = vec![
            ("commit".into(), "abc".into()),
            ("k=1".into(), r"v,w\x".into()),
        ];
        let text = labels_text(labels.iter().map(|(k, v)| (k, v)));
        assert_eq!(text, r"commit=abc,k\=1=v\,w\\x");
        // Each printed label reads back as itself.
        assert_eq!(label(r"k\=1=v\,w\\x"), Ok(labels[1].clone()));
    }
}
