//! Text into HTML: the one escaping function the engine's pages and the button use, and
//! the page frame (with the configured notice) that extensions render their pages in.

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// The banner of [`IdmeBuilder::page_notice`](crate::IdmeBuilder::page_notice), escaped.
fn notice_banner(notice: Option<&str>) -> String {
    notice.map_or_else(String::new, |text| {
        format!(
            "<p id=\"page-notice\" role=\"status\" style=\"background:#fff3cd;border:1px solid #c9a227;\
             padding:.5rem 1rem;font-weight:bold\">{}</p>",
            escape(text)
        )
    })
}

/// A whole HTML page: `title` (escaped here), the configured `notice` banner (escaped
/// here), then `body`, which is HTML and must already be escaped.
pub fn page(notice: Option<&str>, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;\
         margin:4rem auto;padding:0 1rem;line-height:1.5}}a{{color:#08833d}}</style></head>\
         <body>{banner}{body}</body></html>",
        title = escape(title),
        banner = notice_banner(notice),
    )
}
