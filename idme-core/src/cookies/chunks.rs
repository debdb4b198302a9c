//! A sealed value too large for one cookie, split over `name`, `name.1`, … and put back together.

use std::borrow::Cow;

use super::{RequestCookies, SetCookie};

/// The largest value one cookie of a chunked session carries: with its name and
/// attributes, each `Set-Cookie` stays under the 4 KB browsers accept.
pub(crate) const CHUNK_SIZE: usize = 3800;
/// The most chunks read back (about 60 KB): more is refused as garbage.
const MAX_CHUNKS: usize = 16;

/// The name of chunk `i` (0 is the cookie itself).
fn chunk_name(name: &str, i: usize) -> String {
    if i == 0 {
        name.to_owned()
    } else {
        format!("{name}.{i}")
    }
}

/// Cookies carrying `value` under `template`'s name and attributes: one cookie when it
/// fits, else `name` = `"{count}~{first piece}"`, `name.1`, `name.2`, …. Chunks of an
/// earlier, larger value that `present` still carries are cleared.
pub(crate) fn chunked(
    template: &SetCookie,
    value: &str,
    present: &RequestCookies,
) -> Vec<SetCookie> {
    // Sealed values are base64: every byte is one character, any cut is on a boundary.
    let pieces: Vec<&str> = if value.len() <= CHUNK_SIZE {
        vec![value]
    } else {
        value
            .as_bytes()
            .chunks(CHUNK_SIZE)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect()
    };
    let count = pieces.len();
    let mut out: Vec<SetCookie> = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| SetCookie {
            name: chunk_name(&template.name, i),
            value: if i == 0 && count > 1 {
                format!("{count}~{piece}")
            } else {
                (*piece).to_owned()
            },
            ..template.clone()
        })
        .collect();
    for i in present.chunk_indices(&template.name) {
        if i >= count {
            out.push(SetCookie::clear(
                &chunk_name(&template.name, i),
                &template.path,
                template.secure,
            ));
        }
    }
    out
}

/// The value of the (possibly chunked) cookie `name`: `None` when absent, `Err` when a
/// chunk is missing or the count is garbage. A tampered or truncated chunk is caught by
/// the seal, not here.
pub(crate) fn reassemble<'a>(
    cookies: &'a RequestCookies,
    name: &str,
) -> Option<Result<Cow<'a, str>, ()>> {
    let first = cookies.get(name)?;
    let Some((count, piece)) = first.split_once('~') else {
        // One cookie (the usual case): no copy.
        return Some(Ok(Cow::Borrowed(first)));
    };
    let Ok(count) = count.parse::<usize>() else {
        return Some(Err(()));
    };
    if !(2..=MAX_CHUNKS).contains(&count) {
        return Some(Err(()));
    }
    let mut value = piece.to_owned();
    for i in 1..count {
        match cookies.get(&chunk_name(name, i)) {
            Some(p) => value.push_str(p),
            None => return Some(Err(())),
        }
    }
    Some(Ok(Cow::Owned(value)))
}

/// Deletions for the cookie `name` and every chunk of it that `present` carries.
pub(crate) fn clear_chunked(
    name: &str,
    path: &str,
    secure: bool,
    present: &RequestCookies,
) -> Vec<SetCookie> {
    let mut out = vec![SetCookie::clear(name, path, secure)];
    out.extend(
        present
            .chunk_indices(name)
            .filter(|i| *i > 0)
            .map(|i| SetCookie::clear(&chunk_name(name, i), path, secure)),
    );
    out
}
